package dev.preview.core.console;

import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ScmNotifier;

/**
 * Builds the {@code console} notifier:
 *
 * <pre>{@code
 * notifier:
 *   provider: console
 *   inPlace: auto     # auto (ANSI on a terminal), always, never
 * }</pre>
 */
public final class ConsoleNotifierFactory implements ScmNotifier.Factory {

  @Override
  public String name() {
    return ConsoleNotifier.NAME;
  }

  @Override
  public ScmNotifier create(ProviderContext context) {
    ProviderConfig config = context.config();
    config.ignore("provider");
    String inPlace = config.choice("inPlace", "auto", "auto", "always", "never");
    config.validate();
    ConsoleNotifier.Builder b = ConsoleNotifier.builder();
    if (!inPlace.equals("auto")) {
      b.ansi(inPlace.equals("always"));
    }
    return b.build();
  }
}
