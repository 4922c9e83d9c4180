package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.BeforeProperty;
import org.junit.jupiter.api.Test;

/** {@code app.image} templates: resolution, validation, and hostile branches (valid, deterministic, never shared). */
class ImageTemplateTest {
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  static final PreviewKey PR = PreviewKey.pr("Acme/Shop", 42);

  private final Map<String, String> tags = new HashMap<>();

  @BeforeProperty
  void reset() {
    tags.clear();
  }

  @Test
  void resolvesEveryPlaceholderOfAPullRequest() {
    assertThat(ImageTemplate.of("ghcr.io/{owner}/{repo}:pr-{number}-{shortSha}").resolve(PR, SHA, "feature/basket"))
        .isEqualTo("ghcr.io/acme/shop:pr-42-6dcb09b");
    assertThat(ImageTemplate.of("registry.example.com/shop:{sha}").resolve(PR, SHA, null))
        .isEqualTo("registry.example.com/shop:" + SHA);
    assertThat(ImageTemplate.of("localhost:5000/shop:{branch}").resolve(PR, SHA, "main")).isEqualTo("localhost:5000/shop:main");
    // a branch that is not a tag as it is gets a hash, so feature/basket and feature-basket never meet
    String slashed = ImageTemplate.of("shop:{branch}").resolve(PR, SHA, "feature/basket");
    assertThat(slashed).startsWith("shop:feature-basket-").hasSize("shop:feature-basket-".length() + 16);
    assertThat(ImageTemplate.of("shop:{branch}").resolve(PR, SHA, "feature-basket")).isEqualTo("shop:feature-basket");
    assertThat(ImageTemplate.of("shop:{branch}").resolve(PR, SHA, null)).isEqualTo("shop:pr-42");
    assertThat(ImageTemplate.of("nginx:1.27").resolve(PR, SHA, null)).isEqualTo("nginx:1.27");
    assertThat(ImageTemplate.of("nginx:1.27").perRevision()).isFalse();
  }

  @Test
  void aGitLabGroupKeepsItsPathAndGetsDashesInTheTag() {
    PreviewKey key = PreviewKey.pr("Group/Sub/Shop", 7);
    assertThat(ImageTemplate.of("registry.gitlab.com/{owner}/{repo}:{owner}-{number}").resolve(key, SHA, null))
        .isEqualTo("registry.gitlab.com/group/sub/shop:group-sub-7");
  }

  @Test
  void aBranchPreviewsNumberIsItsBranchMadeSafe() {
    PreviewKey key = PreviewKey.branch("acme/shop", "release/2.0");
    String ref = ImageTemplate.of("shop:br-{number}-{shortSha}").resolve(key, SHA, null);
    assertThat(ref).matches("shop:br-release-2\\.0-[0-9a-f]{16}-6dcb09b");
    // in the path, lower-case path components
    String path = ImageTemplate.of("ghcr.io/acme/{branch}:{sha}").resolve(PreviewKey.branch("acme/shop", "Main"), SHA, null);
    assertThat(path).matches("ghcr\\.io/acme/main-[0-9a-f]{16}:" + SHA);
    assertThat(ImageTemplate.referenceProblem(path)).isNull();
  }

  @Test
  void unknownPlaceholdersAndInvalidReferencesAreRefusedWithEveryReason() {
    assertThat(ImageTemplate.problems("ghcr.io/acme/shop:{commit}"))
        .containsExactly("unknown placeholder {commit} (known: sha, shortSha, number, branch, repo, owner)");
    assertThat(ImageTemplate.problems("{owner}/shop:{sha}")).isEmpty(); // no '.' nor ':': a path, not a host
    assertThat(ImageTemplate.problems("{owner}.example.com/shop:{sha}")).singleElement().asString()
        .contains("{owner} cannot be in the registry host");
    assertThat(ImageTemplate.problems("shop@sha256:{sha}")).singleElement().asString().contains("cannot be in the digest");
    assertThat(ImageTemplate.problems("ghcr.io/Acme/shop:{sha}")).singleElement().asString()
        .contains("gives \"ghcr.io/Acme/shop:" + SHA + "\" for acme/shop#42", "path component \"Acme\"", "lower-case");
    assertThat(ImageTemplate.problems("shop:-{sha}")).singleElement().asString().contains("the tag \"-" + SHA + "\"");
    assertThat(ImageTemplate.problems("shop:" + "x".repeat(100) + "{sha}")).singleElement().asString()
        .contains("the tag", "1-128");
    assertThat(ImageTemplate.problems(" ")).singleElement().asString().contains("must not be empty");
    assertThatThrownBy(() -> ImageTemplate.of("shop:{commit}-{rev}")).isInstanceOf(ConfigurationException.class)
        .satisfies(e -> assertThat(((ConfigurationException) e).problems()).hasSize(2));
  }

  @Test
  void referenceGrammar() {
    assertThat(ImageTemplate.referenceProblem("nginx")).isNull();
    assertThat(ImageTemplate.referenceProblem("ghcr.io/acme/shop:1.0@sha256:" + "a".repeat(64))).isNull();
    assertThat(ImageTemplate.referenceProblem("[::1]:5000/shop:x")).isNull();
    assertThat(ImageTemplate.referenceProblem("ghcr.io//shop")).contains("empty path component");
    assertThat(ImageTemplate.referenceProblem("shop:a:b")).contains("the tag");
    assertThat(ImageTemplate.referenceProblem("reg_istry.io/shop")).contains("registry");
    assertThat(ImageTemplate.referenceProblem("shop@md5:12")).contains("digest");
  }

  @Provide
  Arbitrary<String> branches() {
    Arbitrary<String> hostile = Arbitraries.of("/", "-", ".", "_", "ä", "Ω", "😀", "{", "}", ":", "@", "x", "X", "9",
        "feature", "FEATURE", "a".repeat(40), "-0123456789", "deadbeef01");
    return hostile.list().ofMinSize(1).ofMaxSize(40).map(l -> String.join("", l))
        .filter(b -> {
          try {
            PreviewKey.branch("acme/shop", b);
            return true;
          } catch (IllegalArgumentException e) {
            return false;
          }
        });
  }

  @Property(tries = 3000)
  void everyBranchGivesAValidDeterministicTagOfItsOwn(@ForAll("branches") String branch) {
    PreviewKey key = PreviewKey.branch("acme/shop", branch);
    for (String template : new String[] {"shop:{branch}", "ghcr.io/acme/shop:pr-{number}-{shortSha}",
        "ghcr.io/acme/{branch}:{sha}"}) {
      ImageTemplate t = ImageTemplate.of(template);
      String ref = t.resolve(key, SHA, null);
      assertThat(ImageTemplate.referenceProblem(ref)).as(ref).isNull();
      assertThat(t.resolve(key, SHA, null)).isEqualTo(ref);
    }
    String tag = ImageTemplate.of("shop:{branch}").resolve(key, SHA, null).substring("shop:".length());
    assertThat(tag).matches(TAG);
    String other = tags.put(tag, branch);
    assertThat(other).as("branches %s and %s share the tag %s", other, branch, tag).isIn(null, branch);
  }

  @Property(tries = 300)
  void longBranchesAreCutToA128CharacterTagAndStayApart(@ForAll("branches") String stem) {
    String a = ((stem + "-".repeat(200)).substring(0, 200) + "a").replace("..", ".x");
    String b = ((stem + "-".repeat(200)).substring(0, 200) + "b").replace("..", ".x");
    // the cut may split a surrogate pair or leave a "//": such a name is no branch git allows
    Assume.that(validBranch(a) && validBranch(b));
    ImageTemplate t = ImageTemplate.of("shop:{branch}-{sha}");
    String ta = t.resolve(PreviewKey.branch("acme/shop", a), SHA, null);
    String tb = t.resolve(PreviewKey.branch("acme/shop", b), SHA, null);
    assertThat(ta.substring(5)).hasSizeLessThanOrEqualTo(128).matches(TAG).endsWith("-" + SHA);
    assertThat(ta).isNotEqualTo(tb);
  }

  private static boolean validBranch(String b) {
    try {
      PreviewKey.branch("acme/shop", b);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
