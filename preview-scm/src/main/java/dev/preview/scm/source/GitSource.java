package dev.preview.scm.source;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import dev.preview.spi.SourceFetcher;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a preview's code with JGit: the PR's head ref ({@code refs/pull/N/head} on GitHub,
 * {@code refs/merge-requests/N/head} on GitLab, so PRs from forks work too; the branch for a branch
 * preview), shallow (depth 1) where the server allows it, then checks out exactly the requested SHA
 * and removes every file the commit does not have (an earlier build's output included).
 *
 * <p>The repository URL is {@code build.repository}, or {@code https://github.com/<owner>/<repo>.git}
 * (a GitHub Enterprise API URL such as {@code https://ghe.example.com/api/v3} gives
 * {@code https://ghe.example.com/<owner>/<repo>.git}), or {@code <gitlab baseUrl>/<path>.git}. The
 * token goes to the server as HTTPS basic credentials ({@code x-access-token} on GitHub,
 * {@code oauth2} on GitLab); it is never part of the URL, a log line or a message.
 *
 * <pre>{@code
 * SourceFetcher git = GitSource.create(new SourceFetcher.Origin("github", null, null, Secret.of(token)));
 * git.fetch(PreviewKey.pr("acme/shop", 7), sha, Path.of(".preview/workspaces/acme-shop-pr-7"));
 * }</pre>
 *
 * Thread-safe for different workspaces.
 */
public final class GitSource implements SourceFetcher {
  /** The name in messages. */
  public static final String NAME = "git";
  private static final Logger log = LoggerFactory.getLogger(GitSource.class);
  private static final Pattern SHA = Pattern.compile("[0-9a-f]{40}([0-9a-f]{24})?");
  private static final Pattern URL_CREDENTIALS = Pattern.compile("(?i)([a-z][a-z0-9+.-]*://)[^/@\\s]+@");
  /** Where the fetched head is kept in the workspace's repository. */
  private static final String LOCAL_REF = "refs/preview/head";

  private final String scm;
  private final @Nullable String repository;
  private final @Nullable String cloneBase;
  private final @Nullable Secret token;

  private GitSource(String scm, @Nullable String repository, @Nullable String cloneBase, @Nullable Secret token) {
    this.scm = scm;
    this.repository = repository;
    this.cloneBase = cloneBase;
    this.token = token;
  }

  /** @throws ConfigurationException when no repository URL can be derived and {@code build.repository} is not set */
  public static GitSource create(Origin origin) {
    Objects.requireNonNull(origin, "origin");
    String scm = origin.scm().toLowerCase(Locale.ROOT);
    String repository = origin.repository();
    String base = null;
    if (repository == null) {
      base = cloneBase(scm, origin.scmBaseUrl());
    } else if (!repository.contains("://") && !Files.isDirectory(Path.of(repository))) {
      throw new ConfigurationException("build.repository: must be a git URL (https://host/owner/repo.git, file://...)"
          + " or an existing directory, got \"" + redact(repository, origin.token()) + "\"");
    }
    return new GitSource(scm, repository, base, origin.token());
  }

  /** The web base clone URLs start with, e.g. {@code https://github.com/}. */
  private static String cloneBase(String scm, @Nullable String scmBaseUrl) {
    switch (scm) {
      case "github": {
        if (scmBaseUrl == null || scmBaseUrl.isBlank() || URI.create(scmBaseUrl.trim()).getHost().equals("api.github.com")) {
          return "https://github.com/";
        }
        String b = scmBaseUrl.trim().replaceAll("/+$", "");
        if (b.endsWith("/api/v3")) {
          return b.substring(0, b.length() - "/api/v3".length()) + "/";
        }
        throw new ConfigurationException("build.repository: cannot tell the clone URL from scm.baseUrl " + b
            + " (a GitHub Enterprise API URL ends in /api/v3); set build.repository to the repository's"
            + " https URL, e.g. https://ghe.example.com/acme/shop.git");
      }
      case "gitlab": {
        String b = scmBaseUrl == null || scmBaseUrl.isBlank() ? "https://gitlab.com" : scmBaseUrl.trim();
        return b.replaceAll("/+$", "") + "/";
      }
      default:
        throw new ConfigurationException("build.repository: is required with scm " + scm + " (only github and gitlab"
            + " give a clone URL); set it to the repository's git URL, e.g. https://git.example.com/acme/shop.git");
    }
  }

  /** The URL fetched for {@code key}. */
  String url(PreviewKey key) {
    return repository != null ? repository : cloneBase + key.repository() + ".git";
  }

  /** The ref holding {@code key}'s head on the server. */
  String ref(PreviewKey key) {
    if (!key.isPullRequest()) {
      return "refs/heads/" + key.branch();
    }
    return scm.equals("gitlab") ? "refs/merge-requests/" + key.number() + "/head" : "refs/pull/" + key.number() + "/head";
  }

  @Override
  public Path fetch(PreviewKey key, String sha, Path workspace) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(workspace, "workspace");
    if (sha == null || !SHA.matcher(sha).matches()) {
      throw new ProviderException(NAME, "cannot fetch " + key.id() + ": \"" + sha + "\" is not a full commit SHA", false);
    }
    String url = url(key);
    String ref = ref(key);
    String where = redact(url, token) + " " + ref;
    try (Git git = open(workspace)) {
      Repository repo = git.getRepository();
      if (!has(repo, sha)) {
        fetchRef(git, url, ref, where);
      }
      if (!has(repo, sha)) {
        // A push after the event moved the ref on, or the PR was force-pushed: ask for the commit itself.
        fetchSha(git, url, sha);
      }
      if (!has(repo, sha)) {
        throw new ProviderException(NAME, "cannot fetch " + key.id() + ": commit " + sha + " is not in " + where
            + " (the PR was force-pushed since, or the SHA is wrong); the next push deploys the PR's head", false);
      }
      git.checkout().setName(sha).setForced(true).call();
      git.reset().setMode(ResetCommand.ResetType.HARD).setRef(sha).call();
      git.clean().setCleanDirectories(true).setForce(true).setIgnore(false).call();
      log.info("{}: fetched {} from {} into {}", key.id(), sha, where, workspace);
      return workspace;
    } catch (GitAPIException | IOException | RuntimeException e) {
      if (e instanceof ProviderException p) {
        throw p;
      }
      throw new ProviderException(NAME, "cannot fetch " + key.id() + " at " + sha + " from " + where + ": "
          + redact(describe(e), token), true, null);
    }
  }

  private static Git open(Path workspace) throws IOException, GitAPIException {
    if (Files.isDirectory(workspace.resolve(".git"))) {
      return Git.open(workspace.toFile());
    }
    Files.createDirectories(workspace);
    return Git.init().setDirectory(workspace.toFile()).setInitialBranch("preview").call();
  }

  private void fetchRef(Git git, String url, String ref, String where) throws GitAPIException {
    RefSpec spec = new RefSpec("+" + ref + ":" + LOCAL_REF);
    try {
      git.fetch().setRemote(url).setRefSpecs(spec).setDepth(1).setCredentialsProvider(credentials()).call();
    } catch (GitAPIException e) {
      if (!String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("shallow")) {
        throw e;
      }
      log.debug("{}: the server refuses a shallow fetch; fetching the whole history", where);
      git.fetch().setRemote(url).setRefSpecs(spec).setCredentialsProvider(credentials()).call();
    }
  }

  /** Servers that allow fetching a commit by id (GitHub, GitLab) give it; others refuse, which is fine here. */
  private void fetchSha(Git git, String url, String sha) {
    try {
      git.fetch().setRemote(url).setRefSpecs(new RefSpec(sha + ":refs/preview/sha")).setDepth(1)
          .setCredentialsProvider(credentials()).call();
    } catch (GitAPIException | RuntimeException e) {
      log.debug("fetching {} by id failed: {}", sha, redact(describe(e), token));
    }
  }

  private static boolean has(Repository repo, String sha) throws IOException {
    ObjectId id = ObjectId.fromString(sha);
    if (!repo.getObjectDatabase().has(id)) {
      return false;
    }
    try (RevWalk walk = new RevWalk(repo)) {
      RevCommit c = walk.parseCommit(id);
      return c != null;
    } catch (IOException e) {
      return false;
    }
  }

  private @Nullable CredentialsProvider credentials() {
    if (token == null) {
      return null;
    }
    return new UsernamePasswordCredentialsProvider(scm.equals("gitlab") ? "oauth2" : "x-access-token", token.reveal());
  }

  /** The exception and its causes, for a message: JGit's top message alone often says only "remote hung up". */
  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null && sb.length() < 500; t = t.getCause()) {
      String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
      if (sb.indexOf(m) < 0) {
        sb.append(sb.length() == 0 ? "" : ": ").append(m);
      }
    }
    return sb.toString();
  }

  /** Removes credentials from a text: user info in URLs, and the token wherever it appears. */
  static String redact(String text, @Nullable Secret token) {
    String out = URL_CREDENTIALS.matcher(text).replaceAll("$1***@");
    if (token != null && !token.isEmpty()) {
      out = out.replace(token.reveal(), "***");
    }
    return out;
  }

  @Override
  public String toString() {
    return "GitSource{scm=" + scm + ", repository=" + (repository == null ? cloneBase + "<owner>/<repo>.git"
        : redact(repository, token)) + (token == null ? "" : ", token=***") + "}";
  }

  /** Makes {@code build.from: source} work (registered in {@code META-INF/services/dev.preview.spi.SourceFetcher$Factory}). */
  public static final class Factory implements SourceFetcher.Factory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public SourceFetcher create(Origin origin) {
      return GitSource.create(origin);
    }
  }
}
