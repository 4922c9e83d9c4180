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
 * from the configured defaults, the secret names a preview does not get (a fork PR without secrets),
 * and the PR's own image. Only what is known: nothing is guessed, and a PR that changes none of these
 * has an empty summary.
 *
 * <p>Pure apart from listing two directories; names only, never a value (no secret, no env value).
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
    if (!withheldSecrets.isEmpty()) {
      out.add("secrets withheld: " + String.join(", ", new TreeSet<>(withheldSecrets)));
    }
    if (image != null) {
      out.add("image: " + image);
    }
    return List.copyOf(out);
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
