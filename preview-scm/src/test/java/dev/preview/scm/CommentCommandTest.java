package dev.preview.scm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CommentCommandTest {
  private static String[] parse(String body) {
    return CommentCommand.parse(body).orElse(null);
  }

  @Test
  void theFirstPreviewLineIsTheCommand() {
    assertThat(parse("LGTM\n\n/preview extend 48h\n/preview stop")).containsExactly("extend", "48h");
    assertThat(parse("  /preview   PIN  ")).containsExactly("pin", "");
    assertThat(parse("/preview")).containsExactly("help", "");
  }

  @Test
  void quotesCodeAndLookalikesAreNotCommands() {
    assertThat(parse("> /preview stop")).isNull();
    assertThat(parse("```\n/preview stop\n```")).isNull();
    assertThat(parse("/previewer stop")).isNull();
    assertThat(parse("please run `/preview stop`")).isNull();
    assertThat(parse(null)).isNull();
  }

  @Test
  void hostileTextIsCutToAWord() {
    assertThat(parse("/preview extend <script>alert(1)</script>")).containsExactly("extend", "scriptalert1script");
  }

  @Test
  void extendTakesADurationOrTwentyFourHours() {
    CommentCommand c = new CommentCommand(PreviewKey.pr("acme/shop", 1), "extend", "48h", "ana", "1", false, true, "9", null);
    assertThat(c.extension()).hasValue(Duration.ofHours(48));
    assertThat(c.acts()).isTrue();
    assertThat(new CommentCommand(c.key(), "extend", "", "ana", null, false, true, "9", null).extension()).hasValue(Duration.ofHours(24));
    assertThat(new CommentCommand(c.key(), "extend", "soon", "ana", null, false, true, "9", null).extension()).isEmpty();
    assertThat(new CommentCommand(c.key(), "status", "", "ana", null, false, true, "9", null).acts()).isFalse();
    assertThat(new CommentCommand(c.key(), "rm", "", "ana", null, false, true, "9", null).known()).isFalse();
  }
}
