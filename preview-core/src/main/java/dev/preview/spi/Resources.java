package dev.preview.spi;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resource limits of one preview. Zero means "no limit".
 *
 * @param milliCpus CPU limit in thousandths of a core ({@code 500} = half a core)
 * @param memoryBytes memory limit in bytes
 * @param pids maximum number of processes
 */
public record Resources(long milliCpus, long memoryBytes, long pids) {
  public static final Resources UNLIMITED = new Resources(0, 0, 0);
  private static final Pattern CPU = Pattern.compile("(\\d+(?:\\.\\d+)?)(m?)");
  private static final Pattern MEMORY = Pattern.compile("(\\d+)\\s*([kmgt]i?b?|b)?", Pattern.CASE_INSENSITIVE);

  public Resources {
    if (milliCpus < 0 || memoryBytes < 0 || pids < 0) {
      throw new IllegalArgumentException("resource limits must not be negative");
    }
  }

  public boolean unlimited() {
    return milliCpus == 0 && memoryBytes == 0 && pids == 0;
  }

  /** Parses {@code 500m}, {@code 1}, {@code 1.5} (cores). */
  public static long parseCpu(String s) {
    Matcher m = CPU.matcher(s.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("CPU must look like 500m, 1 or 1.5, got \"" + s + "\"");
    }
    double v = Double.parseDouble(m.group(1));
    return m.group(2).isEmpty() ? Math.round(v * 1000) : Math.round(v);
  }

  /** Parses {@code 512Mi}, {@code 1G}, {@code 1048576}, {@code 64mb} into bytes. */
  public static long parseMemory(String s) {
    Matcher m = MEMORY.matcher(s.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("memory must look like 512Mi, 1Gi or a number of bytes, got \"" + s + "\"");
    }
    long v = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2).toLowerCase(Locale.ROOT);
    int shift = switch (unit.isEmpty() ? ' ' : unit.charAt(0)) {
      case 'k' -> 10;
      case 'm' -> 20;
      case 'g' -> 30;
      case 't' -> 40;
      default -> 0;
    };
    return Math.multiplyExact(v, 1L << shift);
  }
}
