package dev.preview.core.console;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.ScmNotifier;
import dev.preview.testkit.ScmNotifierKit;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The console notifier passes the {@link ScmNotifierKit}: its "PR" is the comment it keeps per key. */
class ConsoleNotifierKitTest extends ScmNotifierKit {
  private ConsoleNotifier notifier;

  @Override
  protected ScmNotifier createProvider() {
    notifier = ConsoleNotifier.builder()
        .out(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).ansi(false).build();
    return notifier;
  }

  @Override
  protected boolean readsBack() {
    return false; // a console cannot be read back
  }

  @Override
  protected List<String> stickyComments(PreviewKey key) {
    return notifier.comment(key).map(List::of).orElse(List.of());
  }
}
