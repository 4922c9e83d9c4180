package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * Over 10,000 generated hostile keys every generated name is valid for its target, deterministic,
 * and distinct keys never share a name (the secondary properties run 3,000 tries each to keep the
 * build fast; raise them when hunting). jqwik creates one instance per property, so the maps below
 * collect every name of one property's tries.
 */
class NamesPropertiesTest {
  static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  static final Pattern SQL_IDENTIFIER = Pattern.compile("[a-z][a-z0-9_]*");
  static final Pattern DOCKER = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
  static final Pattern REDIS_PREFIX = Pattern.compile("preview:[a-z0-9-]+:");
  static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  private static final List<String> HOSTILE = List.of(
      "../", "..", "./", "'", "\"", ";", "`", "$(rm -rf /)", "'; DROP TABLE users; --", "\\", "%00", "*", "?",
      "[", "]", ":", "#", "@", "{", "}", "ä", "Ö", "Ω", "ß", "İ", "ı", "ﬁ", "Ａ", "①", "😀", "\u0301", "\u200b",
      "中文", "/", "-", "_", ".", " ", "\t", "\n", "\u0000", "x", "X", "9", "feature", "FEATURE", "");

  private final Map<String, Map<String, String>> seen = new HashMap<>();

  @BeforeProperty
  void reset() {
    seen.clear();
  }

  /** Every name of {@code key}, by target. */
  static Map<String, String> names(PreviewKey key) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("dnsLabel", Names.dnsLabel(key));
    m.put("namespace", Names.namespace(key));
    m.put("postgres", Names.postgres(key));
    m.put("mysql", Names.mysql(key));
    m.put("mysqlUser", Names.mysqlUser(key));
    m.put("docker", Names.docker(key));
    m.put("docker-redis", Names.docker(key, "redis"));
    m.put("docker-db", Names.docker(key, "db"));
    m.put("redisPrefix", Names.redisPrefix(key));
    m.put("labelValue", Names.labelValue(key.id()));
    return m;
  }

  static void assertValid(Map<String, String> names) {
    String dns = names.get("dnsLabel");
    assertThat(dns).hasSizeLessThanOrEqualTo(63).matches(DNS_LABEL);
    assertThat(names.get("namespace")).hasSizeLessThanOrEqualTo(63).matches(DNS_LABEL);
    assertThat(names.get("postgres")).matches(SQL_IDENTIFIER);
    assertThat(names.get("postgres").getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(63);
    assertThat(names.get("mysql")).hasSizeLessThanOrEqualTo(64).matches(SQL_IDENTIFIER);
    assertThat(names.get("mysqlUser")).hasSizeLessThanOrEqualTo(32).matches(SQL_IDENTIFIER);
    for (String d : List.of("docker", "docker-redis", "docker-db")) {
      // Docker's own rule, and DNS-safe because container names double as hostnames on a network.
      assertThat(names.get(d)).hasSizeLessThanOrEqualTo(63).matches(DOCKER).matches(DNS_LABEL);
    }
    assertThat(names.get("docker-redis")).endsWith("-redis");
    assertThat(names.get("redisPrefix")).matches(REDIS_PREFIX);
    assertThat(names.get("labelValue")).hasSizeLessThanOrEqualTo(63).matches(LABEL_VALUE);
  }

  /** Records {@code names} of {@code key}; fails if another key already got one of them. */
  private void assertNoCollision(PreviewKey key, Map<String, String> names) {
    names.forEach((target, name) -> {
      String before = seen.computeIfAbsent(target, t -> new HashMap<>()).putIfAbsent(name, key.id());
      assertThat(before).as("%s \"%s\" of %s and of %s", target, name, key.id(), before).isIn(null, key.id());
    });
  }

  @Property(tries = 10_000)
  void everyNameIsValidDeterministicAndUniqueToItsKeyAndTheIdRoundTrips(@ForAll("keys") PreviewKey key) {
    Map<String, String> names = names(key);

    assertValid(names);
    PreviewKey back = PreviewKey.parse(key.id());
    assertThat(back).isEqualTo(key);
    assertThat(back.id()).isEqualTo(key.id());
    assertThat(names(back)).isEqualTo(names);
    assertNoCollision(key, names);
  }

  @Property(tries = 3_000)
  void keysThatDifferOnlyInCaseGetDifferentNames(@ForAll("keys") PreviewKey key, @ForAll long flips) {
    PreviewKey other = key.isPullRequest()
        ? PreviewKey.pr(flipCase(key.repository(), flips), key.number())
        : PreviewKey.branch(flipCase(key.repository(), flips), flipCase(key.branch(), ~flips));
    if (other.equals(key)) {
      return;
    }
    Map<String, String> a = names(key);
    Map<String, String> b = names(other);
    a.forEach((target, name) -> assertThat(b.get(target)).as(target).isNotEqualTo(name));
  }

  @Property(tries = 3_000)
  void hostileRawInputIsEitherRefusedClearlyOrNamedValidly(@ForAll("rawRepositories") String repository,
      @ForAll("branches") String branch) {
    PreviewKey key;
    try {
      key = PreviewKey.branch(repository, branch);
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).containsAnyOf("repository", "branch");
      assertThat(e.getMessage().chars().noneMatch(Character::isISOControl)).as("message is printable").isTrue();
      return;
    }
    assertValid(names(key));
  }

  @Property(tries = 3_000)
  void dockerPartNamesAreValidKeepTheirPrefixAndAreUniqueToTheirKey(@ForAll("keys") PreviewKey key,
      @ForAll("parts") String part) {
    String name = Names.docker(key, part);

    assertThat(name).hasSizeLessThanOrEqualTo(63).matches(DOCKER).matches(DNS_LABEL)
        .startsWith("preview-").contains(Names.hash(key));
    assertThat(Names.docker(key, part)).isEqualTo(name);
    String before = seen.computeIfAbsent("part:" + part, t -> new HashMap<>()).putIfAbsent(name, key.id());
    assertThat(before).isIn(null, key.id());
  }

  @Property(tries = 3_000)
  void labelValuesAreValidKeptWhenAlreadyValidAndUnique(@ForAll("labelInputs") String value) {
    String label = Names.labelValue(value);

    assertThat(label).hasSizeLessThanOrEqualTo(63).matches(LABEL_VALUE);
    assertThat(Names.labelValue(value)).isEqualTo(label);
    if (value.length() <= 63 && LABEL_VALUE.matcher(value).matches()) {
      assertThat(label).isEqualTo(value);
    }
    String before = seen.computeIfAbsent("label", t -> new HashMap<>()).putIfAbsent(label, value);
    assertThat(before).as("label of %s and %s", value, before).isIn(null, value);
  }

  private static String flipCase(String s, long bits) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean flip = ((bits >>> (i % 64)) & 1) == 1;
      sb.append(!flip ? c : Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
    }
    return sb.toString();
  }

  @Provide
  Arbitrary<PreviewKey> keys() {
    Arbitrary<PreviewKey> prs = Combinators.combine(repositories(), Arbitraries.integers().between(1, Integer.MAX_VALUE))
        .as(PreviewKey::pr);
    Arbitrary<PreviewKey> branches = Combinators.combine(repositories(), branches())
        .as(NamesPropertiesTest::branchOrNull)
        .filter(k -> k != null);
    return Arbitraries.frequencyOf(Tuple.of(1, prs), Tuple.of(3, branches));
  }

  private static PreviewKey branchOrNull(String repository, String branch) {
    try {
      return PreviewKey.branch(repository, branch);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Valid repositories: any of the allowed characters, mixed case, 2-3 segments, up to 255 chars. */
  @Provide
  Arbitrary<String> repositories() {
    Arbitrary<String> segment = Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z')
        .withCharRange('0', '9').withChars("_.-").ofMinLength(1).ofMaxLength(100);
    Arbitrary<String> two = Combinators.combine(segment, segment).as((a, b) -> a + "/" + b);
    Arbitrary<String> three = Combinators.combine(segment, segment, segment).as((a, b, c) -> a + "/" + b + "/" + c);
    Arbitrary<String> fixed = Arbitraries.of("acme/shop", "Acme/Shop", "ACME/SHOP", "a/b", "-/-", "_/.", "a.b/c_d-e");
    return Arbitraries.frequencyOf(Tuple.of(4, two), Tuple.of(1, three), Tuple.of(1, fixed))
        .filter(r -> r.length() <= 255 && !r.contains(".."));
  }

  /** Anything, including what PreviewKey must refuse. */
  @Provide
  Arbitrary<String> rawRepositories() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, repositories()),
        Tuple.of(1, Arbitraries.strings().all().ofMaxLength(300)),
        Tuple.of(1, hostileJoined(20)));
  }

  /** Unicode, 300-char branches sharing long prefixes, ../, quotes, ;, empty-ish, control characters. */
  @Provide
  Arbitrary<String> branches() {
    Arbitrary<String> unicode = Arbitraries.strings().all().ofMinLength(1).ofMaxLength(300);
    Arbitrary<String> longShared = Arbitraries.strings().withCharRange('a', 'z').withChars("/-_.").ofMinLength(0).ofMaxLength(60)
        .map(tail -> "feature/" + "x".repeat(240) + tail);
    Arbitrary<String> words = Arbitraries.strings().alpha().numeric().withChars("/-_.").ofMinLength(1).ofMaxLength(80);
    return Arbitraries.frequencyOf(
        Tuple.of(2, unicode), Tuple.of(3, hostileJoined(30)), Tuple.of(2, longShared), Tuple.of(3, words));
  }

  private static Arbitrary<String> hostileJoined(int max) {
    return Arbitraries.of(HOSTILE).list().ofMinSize(1).ofMaxSize(max).map(l -> String.join("", l));
  }

  @Provide
  Arbitrary<String> parts() {
    return Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.of("app", "db", "redis", "Redis", "web-1", "", "---", "üö", "x".repeat(40), "x".repeat(52))),
        Tuple.of(1, Arbitraries.strings().all().ofMaxLength(60)),
        Tuple.of(1, hostileJoined(10)));
  }

  @Provide
  Arbitrary<String> labelInputs() {
    return Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.strings().all().ofMaxLength(300)),
        Tuple.of(2, hostileJoined(40)),
        Tuple.of(2, Arbitraries.strings().alpha().numeric().withChars("-_.").ofMaxLength(80)),
        Tuple.of(1, keys().map(PreviewKey::id)));
  }
}
