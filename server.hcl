seal "transit" {
  address    = "https://peer.example.com:8200"
  key_name   = "autounseal"
  mount_path = "transit/"
}
