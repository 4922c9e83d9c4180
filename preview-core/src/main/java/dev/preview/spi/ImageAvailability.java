package dev.preview.spi;

/** What an {@link EnvironmentProvider} knows of whether an image can be pulled or run. */
public enum ImageAvailability {
  /** The image exists (on the host, or in its registry). */
  PRESENT,
  /** The provider asked and the image does not exist (yet). */
  ABSENT,
  /** The provider cannot tell (it cannot look, or the registry did not answer). */
  UNKNOWN
}
