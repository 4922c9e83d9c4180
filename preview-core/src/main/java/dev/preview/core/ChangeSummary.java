package dev.preview.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * What a preview changes against the main line, as a few short lines for the PR's sticky status and
 * the dashboard: the migrations the PR adds over the main checkout, the feature flags that differ
 * from the configured defaults, the env and secret names the PR's checkout declares over (or no
 * longer declares against) the main line's ({@link #ENV_DECLARATIONS}, told apart by the app
 * template), the secret names a preview does not get (a fork PR without secrets), and the PR's own image. Only what is known: nothing is guessed, and a PR that changes none of these
 * has an empty summary.
 *
 * <p>Pure apart from listing two directories and reading two small files; names only, never a value
 * (no secret, no env value: the values of a declaration file are not even kept).
 */
public final class ChangeSummary {
  /** At most this many migrations are named; the rest are counted. */
  static final int MAX_NAMED = 5;

  private ChangeSummary() {}

  /**
   * @param flags the flags the preview runs with
   * @param defaults the configured defaults ({@code flags:} of the config)
   * @param withheldSecrets secret names the app template has but this preview does not get
   * @param image the image the preview runs if the app's image is a per-PR template, else null
   * @param baseCheckout the main line's checkout ({@code app.buildContext}), or null if unknown
   * @param prCheckout the PR's checkout (its workspace), or null if unknown
   * @param migrationsDir the migrations directory relative to a checkout ({@code build.migrations}), or null
   */
  public static List<String> of(Map<String, Boolean> flags, Map<String, Boolean> defaults, Set<String> withheldSecrets,
      @Nullable String image, @Nullable Path baseCheckout, @Nullable Path prCheckout, @Nullable String migrationsDir) {
    return of(flags, defaults, withheldSecrets, image, baseCheckout, prCheckout, migrationsDir, null);
  }

  /**
   * Like {@link #of(Map, Map, Set, String, Path, Path, String)}, and also the env and secret names the
   * PR adds or removes: the names its checkout declares in {@link #ENV_DECLARATIONS} against those of
   * the main line's checkout, each told apart as a secret or a setting by the app template, and an
   * added name the template does not provide said so (the preview does not get it).
   *
   * @param template the app template ({@code app.env} and {@code app.secrets}: names only), or null
   */
  public static List<String> of(Map<String, Boolean> flags, Map<String, Boolean> defaults, Set<String> withheldSecrets,
      @Nullable String image, @Nullable Path baseCheckout, @Nullable Path prCheckout, @Nullable String migrationsDir,
      @Nullable AppTemplate template) {
    List<String> out = new ArrayList<>();
    List<String> added = migrationsAdded(baseCheckout, prCheckout, migrationsDir);
    if (!added.isEmpty()) {
      List<String> named = added.subList(0, Math.min(MAX_NAMED, added.size()));
      out.add((added.size() == 1 ? "migration added: " : added.size() + " migrations added: ") + String.join(", ", named)
          + (added.size() > named.size() ? " and " + (added.size() - named.size()) + " more" : ""));
    }
    Map<String, Boolean> sorted = new TreeMap<>(flags);
    sorted.forEach((name, on) -> {
      Boolean was = defaults.get(name);
      if (was == null) {
        out.add("flag " + name + ": " + onOff(on) + " (not configured)");
      } else if (!was.equals(on)) {
        out.add("flag " + name + ": " + onOff(on) + " (default " + onOff(was) + ")");
      }
    });
    if (template != null) {
      out.addAll(envChanges(baseCheckout, prCheckout, template.env().keySet(), template.secrets().keySet()));
    }
    if (!withheldSecrets.isEmpty()) {
      out.add("secrets withheld: " + String.join(", ", new TreeSet<>(withheldSecrets)));
    }
    if (image != null) {
      out.add("image: " + image);
    }
    return List.copyOf(out);
  }

  /**
   * Where a checkout declares the environment its app reads (dotenv lines {@code NAME=example}; values,
   * comments and {@code export} are ignored), first one found: the PR's against the main line's.
   */
  public static final List<String> ENV_DECLARATIONS = List.of(".env.example", ".env.sample", ".env.template");
  /** A declaration file larger than this is not read. */
  static final long MAX_DECLARATION_BYTES = 64 * 1024;
  private static final java.util.regex.Pattern ENV_LINE =
      java.util.regex.Pattern.compile("\\s*(?:export\\s+)?([A-Za-z_][A-Za-z0-9_]{0,127})\\s*(?:=.*)?");

  /**
   * "env added: NAME", "secret removed: NAME", ...: the names the PR's declaration has that the main
   * line's lacks, and the reverse, sorted. A name in {@code secretNames} is a secret, else a setting; an
   * added name the template neither sets nor keeps secret gets "(not in the app template)". Empty when
   * either checkout or either declaration is unknown (nothing is guessed).
   */
  static List<String> envChanges(@Nullable Path baseCheckout, @Nullable Path prCheckout, Set<String> envNames,
      Set<String> secretNames) {
    if (baseCheckout == null || prCheckout == null) {
      return List.of();
    }
    Set<String> base = declared(baseCheckout);
    Set<String> pr = declared(prCheckout);
    if (base == null || pr == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    Set<String> added = new TreeSet<>(pr);
    added.removeAll(base);
    Set<String> removed = new TreeSet<>(base);
    removed.removeAll(pr);
    List<String> envAdded = new ArrayList<>();
    List<String> secretAdded = new ArrayList<>();
    for (String n : added) {
      String known = envNames.contains(n) || secretNames.contains(n) ? "" : " (not in the app template)";
      (secretNames.contains(n) ? secretAdded : envAdded).add(n + known);
    }
    List<String> envRemoved = removed.stream().filter(n -> !secretNames.contains(n)).toList();
    List<String> secretRemoved = removed.stream().filter(secretNames::contains).toList();
    line(out, "env added: ", envAdded);
    line(out, "env removed: ", envRemoved);
    line(out, "secret added: ", secretAdded);
    line(out, "secret removed: ", secretRemoved);
    return out;
  }

  private static void line(List<String> out, String what, List<String> names) {
    if (!names.isEmpty()) {
      List<String> named = names.subList(0, Math.min(MAX_NAMED, names.size()));
      out.add(what + String.join(", ", named) + (names.size() > named.size() ? " and " + (names.size() - named.size()) + " more" : ""));
    }
  }

  /** The names declared in the first of {@link #ENV_DECLARATIONS} in {@code checkout}; null if none, or unreadable, or outside it. */
  private static @Nullable Set<String> declared(Path checkout) {
    try {
      Path root = checkout.toRealPath();
      for (String name : ENV_DECLARATIONS) {
        Path f = root.resolve(name);
        if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || Files.size(f) > MAX_DECLARATION_BYTES) {
          return null; // a symlink (the PR's code pointing us elsewhere) or a huge file: unknown
        }
        Set<String> names = new TreeSet<>();
        for (String line : Files.readAllLines(f, java.nio.charset.StandardCharsets.UTF_8)) {
          java.util.regex.Matcher m = ENV_LINE.matcher(line);
          if (!line.isBlank() && !line.strip().startsWith("#") && m.matches()) {
            names.add(m.group(1));
          }
        }
        return names;
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String onOff(boolean on) {
    return on ? "on" : "off";
  }

  /**
   * The regular files directly in {@code prCheckout/dir} whose names {@code baseCheckout/dir} lacks,
   * sorted. Empty when either side is unknown, or when the directory escapes a checkout (a symlink
   * or {@code ..}): the PR's code is not trusted to point us elsewhere.
   */
  static List<String> migrationsAdded(@Nullable Path baseCheckout, @Nullable Path prCheckout, @Nullable String dir) {
    if (baseCheckout == null || prCheckout == null || dir == null) {
      return List.of();
    }
    Set<String> base = names(baseCheckout, dir);
    Set<String> pr = names(prCheckout, dir);
    if (base == null || pr == null) {
      return List.of();
    }
    pr.removeAll(base);
    return List.copyOf(pr);
  }

  private static @Nullable Set<String> names(Path checkout, String dir) {
    try {
      Path root = checkout.toRealPath();
      Path d = root.resolve(dir).normalize();
      if (!d.startsWith(root)) {
        return null;
      }
      if (!Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
        return new TreeSet<>(); // no migrations there yet
      }
      if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) || !d.toRealPath().startsWith(root)) {
        return null;
      }
      Set<String> names = new TreeSet<>();
      try (Stream<Path> files = Files.list(d)) {
        files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
            .map(f -> f.getFileName().toString())
            .filter(n -> n.length() <= 200 && n.chars().allMatch(ch -> ch >= 0x20 && ch != 0x7f))
            .forEach(names::add);
      }
      return names;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
