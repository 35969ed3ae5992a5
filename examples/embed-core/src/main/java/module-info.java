/** An application that embeds amalgam-core, and nothing else of Amalgam, as a named module. */
module dev.amalgam.example.embed {
  requires dev.amalgam.core;
}
