"""Small helpers with no mlproj dependency beyond errors."""
