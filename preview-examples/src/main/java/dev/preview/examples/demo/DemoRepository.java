package dev.preview.examples.demo;

import dev.preview.examples.sample.SampleApp;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;

/**
 * The git server of {@code preview demo}: a bare repository in the demo's temp dir, made and pushed
 * to with JGit only (no {@code git} binary, no network), as GitHub keeps a PR's head under
 * {@code refs/pull/<n>/head}. Commits change {@code greeting.txt}, which the {@link SampleApp} shows.
 */
final class DemoRepository implements AutoCloseable {
  private static final PersonIdent WHO = new PersonIdent("Preview Demo", "demo@preview.invalid");

  private final Path bare;
  private final Git author;

  private DemoRepository(Path bare, Git author) {
    this.bare = bare;
    this.author = author;
  }

  /** An empty bare repository {@code <dir>/origin.git} and a clone of it in {@code <dir>/author} to commit from. */
  static DemoRepository create(Path dir) {
    Path bare = dir.resolve("origin.git");
    try {
      Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
      Git author = Git.cloneRepository().setURI(bare.toUri().toString()).setDirectory(dir.resolve("author").toFile())
          .call();
      return new DemoRepository(bare, author);
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot create the demo's git repository in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** What {@code build.repository} names: {@code file:///.../origin.git/}. */
  URI uri() {
    return bare.toUri();
  }

  /**
   * A commit whose {@code greeting.txt} is {@code greeting}, on top of {@code parent} (null: on the
   * current head, the first commit of {@code main}), pushed to {@code ref}; its SHA.
   */
  String commit(String parent, String greeting, String message, String ref) {
    return commit(parent, greeting, Map.of(), message, ref);
  }

  /** The same, also adding {@code files} (paths relative to the repository's root, and their text). */
  String commit(String parent, String greeting, Map<String, String> files, String message, String ref) {
    try {
      if (parent != null) {
        author.reset().setMode(ResetCommand.ResetType.HARD).setRef(parent).call();
      }
      Path tree = author.getRepository().getWorkTree().toPath();
      Files.writeString(tree.resolve(SampleApp.GREETING_FILE), greeting + "\n", StandardCharsets.UTF_8);
      author.add().addFilepattern(SampleApp.GREETING_FILE).call();
      for (Map.Entry<String, String> f : files.entrySet()) {
        Path file = tree.resolve(f.getKey());
        Files.createDirectories(file.getParent());
        Files.writeString(file, f.getValue(), StandardCharsets.UTF_8);
        author.add().addFilepattern(f.getKey()).call();
      }
      RevCommit c = author.commit().setMessage(message).setAuthor(WHO).setCommitter(WHO).call();
      author.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+" + c.name() + ":" + ref)).call();
      return c.name();
    } catch (IOException | GitAPIException e) {
      throw new IllegalStateException("cannot commit \"" + message + "\" to " + ref + ": " + e.getMessage(), e);
    }
  }

  /** The author's working tree: what the last {@link #commit} left checked out. */
  Path worktree() {
    return author.getRepository().getWorkTree().toPath();
  }

  @Override
  public void close() {
    author.close();
  }
}
