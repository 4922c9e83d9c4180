package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChangeSummaryUnitTest {
  @TempDir Path tmp;

  @Test
  void namesOnlyWhatDiffers() throws Exception {
    Path base = Files.createDirectories(tmp.resolve("base/db"));
    Path pr = Files.createDirectories(tmp.resolve("pr/db"));
    Files.writeString(base.resolve("V1__a.sql"), "");
    Files.writeString(pr.resolve("V1__a.sql"), "");
    for (int i = 2; i <= 8; i++) {
      Files.writeString(pr.resolve("V" + i + "__x.sql"), "");
    }
    assertThat(ChangeSummary.of(Map.of("a", true, "b", false), Map.of("a", true, "b", true), Set.of("STRIPE_KEY"),
        "registry/shop:pr-7-abc", tmp.resolve("base"), tmp.resolve("pr"), "db"))
        .containsExactly("7 migrations added: V2__x.sql, V3__x.sql, V4__x.sql, V5__x.sql, V6__x.sql and 2 more",
            "flag b: off (default on)", "secrets withheld: STRIPE_KEY", "image: registry/shop:pr-7-abc");
    assertThat(ChangeSummary.of(Map.of("a", true), Map.of("a", true), Set.of(), null, tmp.resolve("base"), tmp.resolve("pr"), null))
        .isEmpty();
  }

  @Test
  void aMigrationsDirectoryThatLeavesTheCheckoutIsNotRead() throws Exception {
    Path outside = Files.createDirectories(tmp.resolve("host-secrets"));
    Files.writeString(outside.resolve("id_rsa"), "");
    Path base = Files.createDirectories(tmp.resolve("base"));
    Path pr = Files.createDirectories(tmp.resolve("pr"));
    Files.createSymbolicLink(pr.resolve("db"), outside);
    assertThat(ChangeSummary.migrationsAdded(base, pr, "db")).isEmpty();
    assertThat(ChangeSummary.migrationsAdded(base, pr, "../host-secrets")).isEmpty();
  }

  @Test
  void envNamesAreToldApartByTheTemplateAndASymlinkedDeclarationIsNotRead() throws Exception {
    Path base = Files.createDirectories(tmp.resolve("base"));
    Path pr = Files.createDirectories(tmp.resolve("pr"));
    Files.writeString(base.resolve(".env.example"), "A=1\nOLD=x\nSTRIPE_KEY=sk_test\n");
    Files.writeString(pr.resolve(".env.example"), "A=2\n  export NEW_ONE=\nKNOWN=\nPAYPAL_KEY=\n# GONE=\nnot a line\n");
    assertThat(ChangeSummary.envChanges(base, pr, Set.of("A", "KNOWN"), Set.of("STRIPE_KEY", "PAYPAL_KEY")))
        .containsExactly("env added: KNOWN, NEW_ONE (not in the app template)", "env removed: OLD",
            "secret added: PAYPAL_KEY", "secret removed: STRIPE_KEY");
    assertThat(ChangeSummary.envChanges(base, tmp.resolve("nowhere"), Set.of(), Set.of())).as("unknown side").isEmpty();

    Path outside = Files.createDirectories(tmp.resolve("host"));
    Files.writeString(outside.resolve("env"), "HOST_ONLY=1\n");
    Path linked = Files.createDirectories(tmp.resolve("linked"));
    Files.createSymbolicLink(linked.resolve(".env.example"), outside.resolve("env"));
    assertThat(ChangeSummary.envChanges(base, linked, Set.of(), Set.of())).isEmpty();
  }
}
