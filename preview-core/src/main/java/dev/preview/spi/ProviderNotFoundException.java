package dev.preview.spi;

import java.util.List;

/** The configured provider name matches no factory on the classpath. */
public final class ProviderNotFoundException extends PreviewException {
  private static final long serialVersionUID = 1L;
  private final String kind;
  private final String requested;
  private final List<String> available;

  public ProviderNotFoundException(String kind, String requested, List<String> available, String hint) {
    super(kind + " provider \"" + requested + "\" not found. Found on the classpath: "
        + (available.isEmpty() ? "none" : String.join(", ", available))
        + (hint == null ? "" : ". " + hint));
    this.kind = kind;
    this.requested = requested;
    this.available = List.copyOf(available);
  }

  public String kind() {
    return kind;
  }

  public String requested() {
    return requested;
  }

  public List<String> available() {
    return available;
  }
}
