package dev.preview.scm.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import dev.preview.spi.SourceFetcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JGit against a real bare repository on disk, shaped like GitHub's and GitLab's PR refs. */
class GitSourceTest {
  private static final PreviewKey PR7 = PreviewKey.pr("acme/shop", 7);
  private static final Secret TOKEN = Secret.of("ghp_s3cr3tT0ken");

  @TempDir Path tmp;
  Path bare;
  Path author;
  Git authorGit;
  RevCommit main;

  @BeforeEach
  void repository() throws Exception {
    bare = tmp.resolve("origin.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    author = tmp.resolve("author");
    authorGit = Git.cloneRepository().setURI(bare.toUri().toString()).setDirectory(author.toFile()).call();
    main = commit(Map.of("README", "main\n"), "main");
    authorGit.push().setRemote("origin").setRefSpecs(new org.eclipse.jgit.transport.RefSpec("HEAD:refs/heads/main")).call();
  }

  private RevCommit commit(Map<String, String> files, String message) throws Exception {
    for (var e : files.entrySet()) {
      Path f = author.resolve(e.getKey());
      Files.createDirectories(f.getParent());
      Files.writeString(f, e.getValue());
    }
    authorGit.add().addFilepattern(".").call();
    PersonIdent who = new PersonIdent("t", "t@example.com");
    return authorGit.commit().setMessage(message).setAuthor(who).setCommitter(who).call();
  }

  /** Points {@code ref} of the server at {@code id}, forced (as GitHub does for a PR ref). */
  private void serverRef(String ref, ObjectId id) throws Exception {
    authorGit.push().setRemote("origin").setForce(true)
        .setRefSpecs(new org.eclipse.jgit.transport.RefSpec("+" + id.name() + ":" + ref)).call();
  }

  private GitSource source(String scm) {
    return GitSource.create(new SourceFetcher.Origin(scm, null, bare.toUri().toString(), TOKEN));
  }

  private static String read(Path f) throws Exception {
    return Files.readString(f, StandardCharsets.UTF_8);
  }

  private static String head(Path workspace) throws Exception {
    try (Repository r = Git.open(workspace.toFile()).getRepository()) {
      return r.resolve("HEAD").name();
    }
  }

  @Test
  void fetchesThePullRequestRefAtItsShaThenFollowsAForcePush() throws Exception {
    RevCommit pr = commit(Map.of("web/index.html", "pr 7 v1\n"), "pr v1");
    serverRef("refs/pull/7/head", pr);
    Path ws = tmp.resolve("ws");

    assertThat(source("github").fetch(PR7, pr.name(), ws)).isEqualTo(ws);
    assertThat(head(ws)).isEqualTo(pr.name());
    assertThat(read(ws.resolve("web/index.html"))).isEqualTo("pr 7 v1\n");

    // A build leaves output behind; the PR is then rewritten (force-push from the main commit).
    Files.writeString(ws.resolve("built.txt"), "stale");
    authorGit.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.HARD).setRef(main.name()).call();
    RevCommit rewritten = commit(Map.of("web/index.html", "pr 7 v2\n"), "pr v2, rewritten");
    serverRef("refs/pull/7/head", rewritten);

    source("github").fetch(PR7, rewritten.name(), ws);
    assertThat(head(ws)).isEqualTo(rewritten.name());
    assertThat(read(ws.resolve("web/index.html"))).isEqualTo("pr 7 v2\n");
    assertThat(ws.resolve("built.txt")).doesNotExist();
    // The history is shallow: the one commit, not the repository.
    try (Repository r = Git.open(ws.toFile()).getRepository()) {
      assertThat(r.getObjectDatabase().getShallowCommits()).contains(rewritten);
    }
  }

  @Test
  void aForkPullRequestComesFromTheBaseRepositorysPrRef() throws Exception {
    // A fork's branch never exists in the base repository: only its refs/pull/N/head (GitHub) or
    // refs/merge-requests/N/head (GitLab) does.
    RevCommit fork = commit(Map.of("web/index.html", "from a fork\n"), "fork");
    serverRef("refs/merge-requests/9/head", fork);
    authorGit.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.HARD).setRef(main.name()).call();
    Path ws = tmp.resolve("fork");

    source("gitlab").fetch(PreviewKey.pr("acme/shop", 9), fork.name(), ws);

    assertThat(head(ws)).isEqualTo(fork.name());
    assertThat(read(ws.resolve("web/index.html"))).isEqualTo("from a fork\n");
    // The github ref layout does not find it.
    assertThatThrownBy(() -> source("github").fetch(PreviewKey.pr("acme/shop", 9), fork.name(), tmp.resolve("gh")))
        .isInstanceOf(ProviderException.class).hasMessageContaining("refs/pull/9/head");
  }

  @Test
  void aBranchPreviewFetchesTheBranch() throws Exception {
    RevCommit b = commit(Map.of("web/index.html", "feature\n"), "feature");
    serverRef("refs/heads/feature/x", b);
    Path ws = tmp.resolve("branch");

    source("github").fetch(PreviewKey.branch("acme/shop", "feature/x"), b.name(), ws);

    assertThat(read(ws.resolve("web/index.html"))).isEqualTo("feature\n");
  }

  @Test
  void aShaTheRefDoesNotHaveIsAClearErrorAndNothingIsCheckedOut() throws Exception {
    RevCommit pr = commit(Map.of("web/index.html", "pr\n"), "pr");
    serverRef("refs/pull/7/head", pr);
    String missing = "0123456789abcdef0123456789abcdef01234567";
    Path ws = tmp.resolve("missing");

    assertThatThrownBy(() -> source("github").fetch(PR7, missing, ws))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("commit " + missing + " is not in")
        .hasMessageContaining("refs/pull/7/head")
        .hasMessageContaining("force-pushed")
        .hasMessageNotContaining(TOKEN.reveal());
    assertThat(ws.resolve("web/index.html")).doesNotExist();
  }

  @Test
  void anUnreachableRemoteIsAClearErrorWithoutTheToken() {
    // Credentials written into the URL are redacted too.
    GitSource s = GitSource.create(new SourceFetcher.Origin("github", null,
        "https://x-access-token:" + TOKEN.reveal() + "@127.0.0.1:1/acme/shop.git", TOKEN));

    assertThatThrownBy(() -> s.fetch(PR7, main.name(), tmp.resolve("unreachable")))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("cannot fetch acme/shop#7")
        .hasMessageContaining("https://***@127.0.0.1:1/acme/shop.git refs/pull/7/head")
        .hasMessageNotContaining(TOKEN.reveal());
    assertThat(s.toString()).doesNotContain(TOKEN.reveal());
  }

  @Test
  void theRepositoryUrlIsDerivedFromTheScm() {
    assertThat(GitSource.create(new SourceFetcher.Origin("github", null, null, null)).url(PR7))
        .isEqualTo("https://github.com/acme/shop.git");
    assertThat(GitSource.create(new SourceFetcher.Origin("github", "https://ghe.example.com/api/v3/", null, null)).url(PR7))
        .isEqualTo("https://ghe.example.com/acme/shop.git");
    assertThat(GitSource.create(new SourceFetcher.Origin("gitlab", "https://git.example.com/", null, null))
        .url(PreviewKey.pr("group/sub/shop", 3))).isEqualTo("https://git.example.com/group/sub/shop.git");
    assertThat(GitSource.create(new SourceFetcher.Origin("gitlab", null, null, null)).ref(PR7))
        .isEqualTo("refs/merge-requests/7/head");
    assertThatThrownBy(() -> GitSource.create(new SourceFetcher.Origin("console", null, null, null)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("build.repository: is required with scm console");
  }

  @Test
  void aShortOrInvalidShaIsRefused() {
    assertThatThrownBy(() -> source("github").fetch(PR7, "abc123", tmp.resolve("short")))
        .isInstanceOf(ProviderException.class).hasMessageContaining("not a full commit SHA");
  }
}
