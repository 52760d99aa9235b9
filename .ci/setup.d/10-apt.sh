# Debian packages the tests use. Other setup.d scripts add their own with apt_install.
export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
apt_install git
# Headless Chromium for tests/tracking/test_ui.py: it opens `mlproj ui` on 127.0.0.1 through
# chromium-driver (Selenium, from the test extra), as a person would; nothing is started here.
apt_install chromium chromium-driver
