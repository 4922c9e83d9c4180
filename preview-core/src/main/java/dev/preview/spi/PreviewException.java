package dev.preview.spi;

/** Root of every exception this library throws. Unchecked: callers decide where to handle. */
public class PreviewException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PreviewException(String message) {
    super(message);
  }

  public PreviewException(String message, Throwable cause) {
    super(message, cause);
  }
}
