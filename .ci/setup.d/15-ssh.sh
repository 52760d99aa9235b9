# OpenSSH for tests/sources/test_ssh.py: the test starts its own sshd on 127.0.0.1 (its own
# host key, authorized key and config in a tmp dir) and fetches projects over ssh:// and
# scp-like URLs with the real ssh client; nothing is started here.
apt_install openssh-server openssh-client
