package dev.preview.core;

import com.google.common.hash.Hashing;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@code app.image} as a template: the image of one revision of one preview, e.g.
 * {@code ghcr.io/acme/shop:pr-{number}-{shortSha}} or {@code registry.example.com/shop:{sha}}.
 *
 * <p>Placeholders:
 * <ul>
 *   <li>{@code {sha}}: the head commit, lower-case hex as the SCM gives it (40, or 64 for SHA-256 repositories);
 *   <li>{@code {shortSha}}: its first 7 characters;
 *   <li>{@code {number}}: the PR number; for a branch preview the branch, made safe like {@code {branch}};
 *   <li>{@code {branch}}: the head branch (for a branch preview, its branch);
 *   <li>{@code {repo}}, {@code {owner}}: the repository's name and owner, lower-case, registry-path safe
 *       (a GitLab group path keeps its {@code /} in the path and gets {@code -} in the tag).
 * </ul>
 *
 * <p>A value is made safe for where it sits. In the tag (after the last {@code :} that follows the
 * last {@code /}): {@code [A-Za-z0-9_.-]}, not starting with {@code .} or {@code -}, the whole tag at most
 * 128 characters. In the repository path: a path component ({@code [a-z0-9]} joined by {@code .},
 * {@code _}, {@code __} or dashes). A branch that is already safe (and not too long) is used as it is;
 * any other is cleaned, cut, and followed by {@code -} and a 16-hex (64-bit) hash of the whole branch, so two
 * branches never get the same value (a safe branch that itself ends like such a hash is hashed too).
 * Placeholders may not be in the registry host nor in a digest ({@code @sha256:...}).
 *
 * <p>{@link #of} checks the template: unknown placeholders, and that it gives a valid image reference
 * ({@code [host[:port]/]path[:tag][@digest]}) for sample keys, the longest branch included; a valid
 * template then gives a valid reference for every key. Immutable and thread-safe.
 */
public final class ImageTemplate {
  /** The placeholders, in the order error messages list them. */
  public static final List<String> PLACEHOLDERS = List.of("sha", "shortSha", "number", "branch", "repo", "owner");

  static final int TAG_MAX = 128;
  static final int NAME_MAX = 255;
  private static final int HASH = dev.preview.spi.Names.HASH_LENGTH;
  /** Longest branch value in the repository path (a path has room for 255 in all). */
  private static final int PATH_VALUE_MAX = 64;

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z]+)}");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern TAG_VALUE = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  private static final Pattern PATH_COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern DOMAIN = Pattern.compile(
      "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:.]+])"
          + "(?::[0-9]+)?");
  private static final Pattern DIGEST = Pattern.compile(
      "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}");
  /** What a hashed value ends with: a safe branch of this shape is hashed too, so values never meet. */
  private static final Pattern HASHED = Pattern.compile("-[0-9a-f]{" + HASH + "}$");

  private final String template;
  /** Where the tag starts in the template, or -1 without a tag. */
  private final int tagStart;

  private ImageTemplate(String template, int tagStart) {
    this.template = template;
    this.tagStart = tagStart;
  }

  /**
   * Parses and checks {@code template}.
   *
   * @throws ConfigurationException naming every problem (without a path: callers prefix theirs)
   */
  public static ImageTemplate of(String template) {
    List<String> problems = problems(template);
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    return parse(template);
  }

  /** Every problem of {@code template}, empty when it is a valid image template. */
  public static List<String> problems(String template) {
    Objects.requireNonNull(template, "template");
    List<String> problems = new ArrayList<>();
    if (template.isBlank()) {
      problems.add("must not be empty (an image reference such as ghcr.io/acme/shop:{sha})");
      return problems;
    }
    Matcher m = PLACEHOLDER.matcher(template);
    while (m.find()) {
      if (!PLACEHOLDERS.contains(m.group(1))) {
        problems.add("unknown placeholder {" + m.group(1) + "} (known: " + String.join(", ", PLACEHOLDERS) + ")");
      }
    }
    ImageTemplate t = parse(template);
    int digest = template.indexOf('@');
    int hostEnd = t.hostEnd();
    m = PLACEHOLDER.matcher(template);
    while (m.find()) {
      if (digest >= 0 && m.start() > digest) {
        problems.add("{" + m.group(1) + "} cannot be in the digest (after '@'): a digest is the image's content"
            + " hash, not a revision; put it in the tag, e.g. shop:{sha}");
      } else if (m.start() < hostEnd) {
        problems.add("{" + m.group(1) + "} cannot be in the registry host; put it in the path or the tag");
      }
    }
    if (!problems.isEmpty()) {
      return problems;
    }
    for (Sample s : SAMPLES) {
      String ref = t.resolve(s.key(), s.sha(), s.branch());
      String why = referenceProblem(ref);
      if (why != null) {
        problems.add("gives \"" + ref + "\" for " + s.key() + ", which is not a valid image reference: " + why
            + " (expected [host[:port]/]path[:tag][@digest], e.g. ghcr.io/acme/shop:pr-{number}-{shortSha})");
        break;
      }
    }
    return problems;
  }

  private record Sample(PreviewKey key, String sha, String branch) {}

  private static final List<Sample> SAMPLES = List.of(
      new Sample(PreviewKey.pr("acme/shop", 42), "6dcb09b5b57875f334f61aebed695e2e4193db5e", "feature/basket"),
      // the longest values: a 255-character branch and a SHA-256 commit id
      new Sample(PreviewKey.branch("Acme-Group/Sub.Group/Shop_Web", "Feature/" + "ü-".repeat(123) + "x"),
          "f".repeat(64), null));

  private static ImageTemplate parse(String template) {
    int digest = template.indexOf('@');
    int nameEnd = digest < 0 ? template.length() : digest;
    int lastSlash = template.lastIndexOf('/', nameEnd - 1);
    int colon = template.indexOf(':', lastSlash + 1);
    int tagStart = colon >= 0 && colon < nameEnd ? colon + 1 : -1;
    return new ImageTemplate(template, tagStart);
  }

  /** Where the registry host ends (0 without one): Docker's rule, a first component with '.' or ':', or localhost. */
  private int hostEnd() {
    int slash = template.indexOf('/');
    if (slash < 0 || (tagStart >= 0 && slash > tagStart)) {
      return 0;
    }
    String first = template.substring(0, slash);
    return first.contains(".") || first.contains(":") || first.equals("localhost") ? slash : 0;
  }

  /** The template as written. */
  public String template() {
    return template;
  }

  /** Whether the template has placeholders (a fixed image gives every revision the same image). */
  public boolean perRevision() {
    return PLACEHOLDER.matcher(template).find();
  }

  /**
   * The image of {@code key} at {@code sha}.
   *
   * @param headBranch the PR's head branch, for {@code {branch}} of a PR preview; null: {@code pr-<number>}
   */
  public String resolve(PreviewKey key, String sha, @Nullable String headBranch) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(sha, "sha");
    String branch = key.isPullRequest() ? (headBranch == null || headBranch.isBlank() ? "pr-" + key.number() : headBranch)
        : key.branch();
    int tagEnd = tagEnd();
    List<String> values = new ArrayList<>();
    Matcher m = PLACEHOLDER.matcher(template);
    int tagLength = tagStart < 0 ? 0 : tagEnd - tagStart;
    int flexible = 0;
    int flexibleLength = 0;
    while (m.find()) {
      boolean inTag = tagStart >= 0 && m.start() >= tagStart && m.start() < tagEnd;
      String v = PLACEHOLDERS.contains(m.group(1)) ? value(m.group(1), key, sha, branch, inTag) : m.group();
      values.add(v);
      if (inTag) {
        tagLength += v.length() - m.group().length();
        if (flexible(m.group(1), key)) {
          flexible++;
          flexibleLength += v.length();
        }
      }
    }
    // Too long a tag: the branch, repo and owner values share what the fixed part leaves of 128;
    // those longer than their share are cut and hashed (the others stay as they are).
    int share = flexible == 0 ? TAG_MAX : Math.max(HASH + 2, (TAG_MAX - (tagLength - flexibleLength)) / flexible);
    m.reset();
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (m.find()) {
      String v = values.get(i++);
      boolean inTag = tagStart >= 0 && m.start() >= tagStart && m.start() < tagEnd;
      if (inTag && tagLength > TAG_MAX && flexible(m.group(1), key) && v.length() > share) {
        v = hashed(v, m.group(1).equals("repo") || m.group(1).equals("owner") ? key.repository() : branch, share);
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /** Placeholders whose value has no fixed length: they are cut when the tag would pass 128. */
  private static boolean flexible(String name, PreviewKey key) {
    return name.equals("branch") || name.equals("repo") || name.equals("owner")
        || (name.equals("number") && !key.isPullRequest());
  }

  private int tagEnd() {
    int digest = template.indexOf('@');
    return digest < 0 ? template.length() : digest;
  }

  private static String value(String name, PreviewKey key, String sha, String branch, boolean inTag) {
    String hex = sha.toLowerCase(Locale.ROOT);
    return switch (name) {
      case "sha" -> hex;
      case "shortSha" -> hex.length() > 7 ? hex.substring(0, 7) : hex;
      case "number" -> key.isPullRequest() ? Integer.toString(key.number())
          : inTag ? tagValue(branch, TAG_MAX) : pathValue(branch);
      case "branch" -> inTag ? tagValue(branch, TAG_MAX) : pathValue(branch);
      case "repo" -> pathComponent(key.repositoryName());
      case "owner" -> String.join(inTag ? "-" : "/",
          java.util.Arrays.stream(key.owner().split("/")).map(ImageTemplate::pathComponent).toList());
      default -> throw new IllegalStateException(name);
    };
  }

  /** A tag-safe form of {@code text}, at most {@code max}: as is when safe, else cleaned, cut and hashed. */
  static String tagValue(String text, int max) {
    if (text.length() <= max && TAG_VALUE.matcher(text).matches() && !HASHED.matcher(text).find()) {
      return text;
    }
    String cleaned = text.replaceAll("[^A-Za-z0-9_.-]+", "-").replaceAll("^[.-]+", "");
    return hashed(cleaned, text, max);
  }

  /** A path-component form of {@code text}: as is when it is one, else cleaned (lower-case), cut and hashed. */
  static String pathValue(String text) {
    if (text.length() <= PATH_VALUE_MAX && PATH_COMPONENT.matcher(text).matches() && !HASHED.matcher(text).find()) {
      return text;
    }
    String cleaned = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+", "");
    return hashed(cleaned, text, PATH_VALUE_MAX);
  }

  /** {@code cleaned} cut to leave room for {@code -} and the hash of {@code original}; never an empty prefix. */
  private static String hashed(String cleaned, String original, int max) {
    String prefix = cleaned.substring(0, Math.min(cleaned.length(), max - HASH - 1)).replaceAll("[^A-Za-z0-9]+$", "");
    if (prefix.isEmpty()) {
      prefix = "x";
    }
    return prefix + "-" + Hashing.sha256().hashUnencodedChars(original).toString().substring(0, HASH);
  }

  /** A repository or owner name as a registry path component: lower-case, odd separators made '-'. No hash: CI writes these names too. */
  static String pathComponent(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    StringBuilder sb = new StringBuilder();
    Matcher m = Pattern.compile("[a-z0-9]+|[^a-z0-9]+").matcher(lower);
    while (m.find()) {
      String part = m.group();
      if (Character.isLetterOrDigit(part.charAt(0)) && part.chars().allMatch(c -> c < 128)) {
        sb.append(part);
      } else if (sb.length() > 0) {
        sb.append(part.equals(".") || part.equals("_") || part.equals("__") || part.matches("-+") ? part : "-");
      }
    }
    String s = sb.toString().replaceAll("[^a-z0-9]+$", "");
    return s.isEmpty() ? "x" : s;
  }

  /**
   * Why {@code ref} is not a valid image reference ({@code [host[:port]/]path[:tag][@digest]}, as
   * Docker and OCI registries read it), or null when it is one.
   */
  public static @Nullable String referenceProblem(String ref) {
    if (ref.isEmpty()) {
      return "it is empty";
    }
    String rest = ref;
    int at = rest.indexOf('@');
    if (at >= 0) {
      String digest = rest.substring(at + 1);
      if (!DIGEST.matcher(digest).matches()) {
        return "the digest \"" + digest + "\" is not algorithm:hex (e.g. sha256:<64 hex>)";
      }
      rest = rest.substring(0, at);
    }
    int lastSlash = rest.lastIndexOf('/');
    int colon = rest.indexOf(':', lastSlash + 1);
    if (colon >= 0) {
      String tag = rest.substring(colon + 1);
      if (!TAG.matcher(tag).matches()) {
        return "the tag \"" + tag + "\" must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'";
      }
      rest = rest.substring(0, colon);
    }
    if (rest.length() > NAME_MAX) {
      return "the name is longer than " + NAME_MAX + " characters";
    }
    String[] parts = rest.split("/", -1);
    int first = 0;
    if (parts.length > 1 && (parts[0].contains(".") || parts[0].contains(":") || parts[0].equals("localhost"))) {
      if (!DOMAIN.matcher(parts[0]).matches()) {
        return "the registry \"" + parts[0] + "\" is not a host name with an optional :port";
      }
      first = 1;
    }
    for (int i = first; i < parts.length; i++) {
      if (!PATH_COMPONENT.matcher(parts[i]).matches()) {
        return (parts[i].isEmpty() ? "an empty path component" : "the path component \"" + parts[i] + "\"")
            + " must be lower-case letters and digits, joined by '.', '_', '__' or '-'";
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return template;
  }
}
