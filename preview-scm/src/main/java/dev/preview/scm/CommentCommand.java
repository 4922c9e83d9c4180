package dev.preview.scm;

import dev.preview.spi.PreviewKey;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A {@code /preview ...} command found in a new PR comment (GitHub {@code issue_comment}, GitLab
 * {@code note} on a merge request), as the webhook source verified and parsed it. Nothing here is
 * trusted beyond what the SCM signed: who wrote it is checked against the SCM's permissions
 * ({@link CommandPermissions}) before anything is done.
 *
 * @param key the PR
 * @param verb {@code deploy}, {@code redeploy}, {@code stop}, {@code extend}, {@code pin},
 *     {@code unpin}, {@code status}, {@code help}; an unknown word is kept as written (lower case,
 *     cut) so that the answer can say so
 * @param argument what follows the verb ({@code 48h} for extend), or ""
 * @param user the login (GitHub) or username (GitLab) of the comment's author
 * @param userId the SCM's numeric id of the author (GitLab's member API needs it), or null
 * @param bot whether the author is a bot (GitHub {@code user.type == "Bot"}, GitLab bot users)
 * @param open whether the PR is open
 * @param commentId the comment's id (a redelivery carries the same one)
 * @param deliveryId the delivery id, or null
 */
public record CommentCommand(PreviewKey key, String verb, String argument, String user, @Nullable String userId,
    boolean bot, boolean open, String commentId, @Nullable String deliveryId) {

  /** The verbs {@code /preview} knows. */
  public static final java.util.List<String> VERBS =
      java.util.List.of("deploy", "redeploy", "stop", "extend", "pin", "unpin", "status", "help");
  /** What {@code /preview extend} without a duration adds. */
  public static final Duration DEFAULT_EXTENSION = Duration.ofHours(24);

  public CommentCommand {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(verb, "verb");
    argument = argument == null ? "" : argument;
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(commentId, "commentId");
  }

  /** Whether {@link #verb} is one {@code /preview} knows. */
  public boolean known() {
    return VERBS.contains(verb);
  }

  /** Whether the command changes something (so the author must be allowed to act). */
  public boolean acts() {
    return known() && !verb.equals("status") && !verb.equals("help");
  }

  /** As typed, normalised: {@code /preview extend 48h}. */
  public String text() {
    return "/preview " + verb + (argument.isEmpty() ? "" : " " + argument);
  }

  /**
   * The first line of {@code body} that starts with {@code /preview} (after blanks), parsed; empty
   * if there is none. {@code /preview} alone is {@code help}. Quoted lines ({@code > /preview ...})
   * and lines inside code blocks are not commands.
   */
  public static Optional<String[]> parse(String body) {
    if (body == null) {
      return Optional.empty();
    }
    boolean fenced = false;
    for (String raw : body.split("\\R", 200)) {
      String line = raw.strip();
      if (line.startsWith("```") || line.startsWith("~~~")) {
        fenced = !fenced;
        continue;
      }
      if (fenced || !line.startsWith("/preview")) {
        continue;
      }
      String rest = line.substring("/preview".length());
      if (!rest.isEmpty() && !Character.isWhitespace(rest.charAt(0))) {
        continue; // "/previewer" is not ours
      }
      String[] words = rest.strip().split("\\s+", 3);
      String verb = words.length == 0 || words[0].isEmpty() ? "help" : words[0].toLowerCase(Locale.ROOT);
      String arg = words.length > 1 ? words[1] : "";
      return Optional.of(new String[] {cut(verb, 20), cut(arg, 20)});
    }
    return Optional.empty();
  }

  private static String cut(String s, int max) {
    String clean = s.replaceAll("[^A-Za-z0-9._:-]", "");
    return clean.length() > max ? clean.substring(0, max) : clean;
  }

  /** The duration of {@code extend} ({@code 48h}, {@code 2d}, {@code 90m}); {@link #DEFAULT_EXTENSION} when none. */
  public Optional<Duration> extension() {
    if (argument.isEmpty()) {
      return Optional.of(DEFAULT_EXTENSION);
    }
    try {
      return Optional.of(dev.preview.spi.ProviderConfig.parseDuration(argument));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
