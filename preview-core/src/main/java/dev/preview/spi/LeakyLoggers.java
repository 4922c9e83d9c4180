package dev.preview.spi;

import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.logging.Level;
import org.slf4j.LoggerFactory;

/**
 * Refuses to build a provider while a vendor client's wire or debug logger would write secret values
 * (passwords in the SQL sent, a container's env, registry credentials) to the log. The secrets have to
 * reach those clients, so the only safe state is the logger off: a provider calls {@link #refuse} when
 * it is built and the installation fails to start with the loggers named, instead of leaking.
 *
 * <p>Stateless and thread-safe.
 */
public final class LeakyLoggers {
  private LeakyLoggers() {}

  /**
   * Throws if any of {@code loggers} logs at DEBUG or finer, as seen through slf4j (whatever the
   * binding) or through {@code java.util.logging} ({@link Level#FINE}), for drivers that log there.
   *
   * @param provider the config section, prefixed to the problem ({@code database}, {@code environment})
   * @param loggers the logger names that would print a secret at DEBUG/TRACE or FINE..FINEST
   * @param howToFix what those loggers print and the logging config that turns them down
   * @throws ConfigurationException one problem naming every logger that is on, in {@code loggers} order
   */
  public static void refuse(String provider, List<String> loggers, String howToFix) {
    refuse(provider, loggers, howToFix, LeakyLoggers::atDebug);
  }

  /** As {@link #refuse(String, List, String)}, with {@code atDebug} telling which logger is on. */
  public static void refuse(String provider, List<String> loggers, String howToFix, Predicate<String> atDebug) {
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(howToFix, "howToFix");
    List<String> on = loggers.stream().filter(atDebug).toList();
    if (!on.isEmpty()) {
      throw new ConfigurationException(provider + ": the logger(s) " + String.join(", ", on)
          + " log at DEBUG or finer (java.util.logging: FINE or finer), which would write secret values to the log; "
          + howToFix);
    }
  }

  /** Whether {@code name} logs at DEBUG through slf4j or at {@link Level#FINE} through {@code java.util.logging}. */
  public static boolean atDebug(String name) {
    return LoggerFactory.getLogger(name).isDebugEnabled()
        || java.util.logging.Logger.getLogger(name).isLoggable(Level.FINE);
  }
}
