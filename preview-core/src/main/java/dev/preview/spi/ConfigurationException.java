package dev.preview.spi;

import java.util.List;

/**
 * A configuration is invalid. Carries every problem found, each prefixed with its path
 * ({@code environment.port: must be 1-65535}), so a user fixes them all in one round.
 */
public final class ConfigurationException extends PreviewException {
  private static final long serialVersionUID = 1L;
  private final List<String> problems;

  public ConfigurationException(List<String> problems) {
    super(format(problems));
    this.problems = List.copyOf(problems);
  }

  public ConfigurationException(String problem) {
    this(List.of(problem));
  }

  /** Every problem, in the order found, each as {@code path: what is wrong}. */
  public List<String> problems() {
    return problems;
  }

  private static String format(List<String> problems) {
    if (problems.size() == 1) {
      return "Invalid configuration: " + problems.get(0);
    }
    StringBuilder sb = new StringBuilder("Invalid configuration (" + problems.size() + " problems):");
    for (String p : problems) {
      sb.append("\n  - ").append(p);
    }
    return sb.toString();
  }
}
