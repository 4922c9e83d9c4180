package dev.preview.core.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.preview.spi.AppExit;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Redactor;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default {@link EnvironmentProvider}: runs the app of each preview as a child process
 * of this JVM on a free port of this machine. Needs no external service.
 *
 * <p>The process gets the spec's env vars and secrets plus {@code PORT=<port>}, and must listen on
 * that port; its URL is {@code http://<host>:<port>/}, also given as {@code PREVIEW_URL} unless the
 * spec sets that. Its environment holds only a few variables of
 * this JVM ({@code PATH}, {@code HOME}, locale, {@code JAVA_HOME}, ...; see {@link Builder#inheritEnv}),
 * so the orchestrator's own tokens never leak into a preview. Output (stdout and stderr) is appended
 * to a log file per preview, read back by {@link #logs}.
 *
 * <p>State lives in a directory: one JSON file per preview ({@code <name>.json}, see
 * {@link Names#dnsLabel}) with its installation's instance, revision, PID, process start instant (a
 * recycled PID is never taken for ours), port, URL, labels and command, never a secret value.
 * {@link #list()} and {@link #find} read that directory and probe the processes, so a new provider
 * (after a restart of the JVM) sees what an old one started. Processes outlive the JVM that started
 * them.
 *
 * <p>Several installations may share one state directory: each file records its
 * {@linkplain Installation#instance() instance}, and {@link #list()}, {@link #find} and
 * {@link #delete} see only the files of their own. The files of instance {@code default} are named
 * {@code <name>.json}; those of another instance {@code <name>.<instance>.json} (the instance lower
 * case, plus a short hash when that changed it), so two installations previewing the same key never
 * share a file. A file that records another instance, or none (written before instances were
 * recorded), is never read, overwritten or removed: {@code apply} refuses to take its place.
 *
 * <p>Thread-safe for different keys; calls for one key must not overlap (the orchestrator
 * serialises them).
 */
public final class LocalEnvironmentProvider implements EnvironmentProvider {
  /** The name in config: {@code environment.provider: local}. */
  public static final String NAME = "local";
  /** Variables of this JVM's environment that every preview process inherits by default. */
  public static final List<String> DEFAULT_INHERITED_ENV = List.of(
      "PATH", "HOME", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TEMP", "TMP", "JAVA_HOME",
      "SYSTEMROOT", "COMSPEC", "PATHEXT", "WINDIR");
  private static final Logger LOG = LoggerFactory.getLogger(LocalEnvironmentProvider.class);
  private static final int LOG_TAIL_ON_FAILURE = 20;
  private static final long MAX_TAIL_BYTES = 256 * 1024;

  private final Path stateDir;
  private final Path workDir;
  private final String host;
  private final List<String> defaultCommand;
  private final Set<String> inheritEnv;
  private final Duration stopTimeout;
  private final Duration startCheck;
  private final Clock clock;
  private final Installation installation;
  /** Whose uid the apps run as: this JVM's (null), one fixed user, or one uid per preview. */
  private final @Nullable User user;
  /** Appended to file names of an instance other than {@code default}; empty for it. */
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /** Last spec applied per key: the only place secrets are kept, for a {@link #resume}. */
  private final Map<PreviewKey, EnvironmentSpec> lastSpecs = new ConcurrentHashMap<>();
  /** The spec of the revision kept serving beside a new one until its gate ends, per key (see {@link LocalState#fallback}). */
  private final Map<PreviewKey, EnvironmentSpec> keptSpecs = new ConcurrentHashMap<>();
  /** Uids handed out by this instance, so two previews started at once never get the same one. */
  private final Map<PreviewKey, Integer> uidsHandedOut = new java.util.HashMap<>();
  /**
   * The processes this instance started, by key: only a parent learns its child's exit code (a
   * process of another JVM, after a restart, is seen to be gone, its code unknown).
   */
  private final Map<PreviewKey, Process> children = new ConcurrentHashMap<>();
  /** Ports handed out by this instance, so two previews started at once never get the same one. */
  private final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

  private LocalEnvironmentProvider(Builder b) {
    this.stateDir = b.stateDir.toAbsolutePath().normalize();
    this.workDir = b.workDir.toAbsolutePath().normalize();
    this.host = b.host;
    this.defaultCommand = List.copyOf(b.command);
    this.inheritEnv = Set.copyOf(b.inheritEnv);
    this.stopTimeout = b.stopTimeout;
    this.startCheck = b.startCheck;
    this.installation = b.installation;
    this.clock = b.clock != null ? b.clock : b.installation.clock();
    this.user = b.user;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The directory holding the state files and logs. */
  public Path stateDir() {
    return stateDir;
  }

  /** The installation whose previews this provider runs and sees. */
  public Installation installation() {
    return installation;
  }

  @Override
  public Environment apply(EnvironmentSpec spec) {
    PreviewKey key = spec.key();
    List<String> command = spec.command().isEmpty() ? defaultCommand : spec.command();
    if (command.isEmpty()) {
      throw new ProviderException(NAME, "no command to run for " + key.id()
          + ": set app.command in preview.yaml (or environment.command for the local provider),"
          + " e.g. command: [\"java\", \"-jar\", \"app.jar\"]", false);
    }
    if (spec.fromFork() && spec.buildContext() != null && user == null && currentUid() == 0) {
      // its checkout is anyone's code: never run as root on this host
      throw new ProviderException(NAME, "refusing to start " + key.id() + ": it is a fork PR, and its app would run"
          + " the PR's checkout (" + spec.buildContext() + ") as root on this host; set environment.user: auto (each"
          + " preview under its own uid), run the server as an unprivileged user, or deploy fork PRs from images"
          + " built in CI", false);
    }
    Optional<LocalState> current = readForWrite(key);
    EnvironmentSpec known = lastSpecs.put(key, spec);
    Path dir = dir(spec);
    String fingerprint = fingerprint(spec, command, dir);
    if (current.isPresent()) {
      LocalState s = stopPrevious(current.get());
      if (!s.suspended() && live(s).isPresent() && s.revision().equals(spec.revision())
          && fingerprint.equals(s.fingerprint()) && sameSecrets(known, spec)) {
        Map<String, String> labels = labels(spec);
        if (!s.labels().equals(labels)) {
          s = s.withLabels(labels, now());
          write(s);
        }
        return toEnvironment(s);
      }
    }
    // The revision that serves now keeps running on its own port until the readiness gate accepts the
    // new one (acceptRevision stops it) or rejects it (rejectRevision makes it the state again). Any
    // other old process is recorded as "previous" before the new one starts: if we crash in between,
    // the next call finds it there and stops it.
    List<LocalState.Proc> previous = new ArrayList<>();
    LocalState fallback = null;
    if (current.isPresent()) {
      LocalState s = current.get();
      previous.addAll(s.previous());
      if (s.fallback() != null) {
        // an earlier gate never ended (superseded, or this JVM stopped): the revision before it stays
        fallback = live(s.fallback()).isPresent() ? s.fallback() : null;
        addProc(previous, s);
      } else if (!s.suspended() && live(s).isPresent() && !s.revision().equals(s.labels().get(Labels.FAILED_REVISION))) {
        fallback = asFallback(s);
        if (known != null) {
          keptSpecs.put(key, known);
        }
      } else {
        addProc(previous, s);
      }
    }
    if (fallback == null) {
      keptSpecs.remove(key);
    }
    Map<String, String> secretless = new TreeMap<>(spec.env());
    return start(key, spec.revision(), command, dir, secretless, spec.secrets(), labels(spec), fingerprint, previous,
        fallback);
  }

  private static void addProc(List<LocalState.Proc> procs, LocalState s) {
    if (s.pid() > 0) {
      procs.add(new LocalState.Proc(s.pid(), s.startedAt()));
    }
  }

  /** {@code s} as the revision kept serving: no mark of a rejected revision, nothing to stop, no fallback of its own. */
  private LocalState asFallback(LocalState s) {
    Map<String, String> labels = new LinkedHashMap<>(s.labels());
    labels.remove(Labels.FAILED_REVISION);
    return s.withLabels(labels, now()).withPrevious(List.of(), now()).withFallback(null, now());
  }

  /**
   * Makes the kept revision of {@code failed} the state again, marked with {@link Labels#FAILED_REVISION}
   * = {@code revision}; null when none is kept or its process is gone. The caller stopped {@code failed}'s process.
   */
  private @Nullable LocalState rollBack(PreviewKey key, LocalState failed, String revision) {
    LocalState f = failed.fallback();
    if (f == null || live(f).isEmpty()) {
      return null;
    }
    Map<String, String> labels = new LinkedHashMap<>(f.labels());
    labels.put(Labels.FAILED_REVISION, revision);
    LocalState back = f.withLabels(labels, now()).withPrevious(failed.previous(), now());
    write(back);
    EnvironmentSpec kept = keptSpecs.remove(key);
    if (kept != null) {
      lastSpecs.put(key, kept);
    }
    LOG.info("local: {} rolled back to revision {} (PID {}, {}): {} failed", key.id(), f.revision(), f.pid(), f.url(),
        revision);
    return back;
  }

  /** Stops the kept revision of {@code s}, if any, and drops it from the state. */
  private LocalState dropFallback(PreviewKey key, LocalState s) {
    keptSpecs.remove(key);
    if (s.fallback() == null) {
      return s;
    }
    List<LocalState.Proc> procs = new ArrayList<>(s.previous());
    addProc(procs, s.fallback());
    LocalState dropped = s.withPrevious(procs, now()).withFallback(null, now());
    write(dropped);
    return stopPrevious(dropped);
  }

  /** The spec's build context (the PR's checkout, with {@code build.from: source}), else {@link Builder#workDir}. */
  private Path dir(EnvironmentSpec spec) {
    return spec.buildContext() != null ? spec.buildContext().toAbsolutePath().normalize() : workDir;
  }

  /** The spec's labels with this installation's instance (ours wins). */
  private Map<String, String> labels(EnvironmentSpec spec) {
    Map<String, String> labels = new LinkedHashMap<>(spec.labels());
    labels.put(Labels.INSTANCE, installation.instance());
    return labels;
  }

  @Override
  public Optional<Environment> find(PreviewKey key) {
    return read(key).map(this::toEnvironment);
  }

  @Override
  public List<Environment> list() {
    if (!Files.isDirectory(stateDir)) {
      return List.of();
    }
    List<Environment> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(stateDir, "*.json")) {
      for (Path f : files) {
        readFile(f).filter(this::ours).ifPresent(s -> out.add(toEnvironment(s)));
      }
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot list state directory " + stateDir + ": " + e.getMessage(), true, e);
    }
    out.sort((a, b) -> a.key().compareTo(b.key()));
    return List.copyOf(out);
  }

  @Override
  public void delete(PreviewKey key) {
    lastSpecs.remove(key);
    children.remove(key);
    synchronized (uidsHandedOut) {
      uidsHandedOut.remove(key);
    }
    Optional<LocalState> state = read(key);
    if (state.isEmpty()) {
      if (readFile(stateFile(key)).isEmpty()) {
        deleteQuietly(logFile(key)); // ours: the file name is this instance's, and no one else's state names it
      }
      return;
    }
    LocalState s = dropFallback(key, stopPrevious(state.get()));
    stopCurrent(s);
    try {
      Files.deleteIfExists(stateFile(key));
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot remove " + stateFile(key) + ": " + e.getMessage(), true, e);
    }
    deleteQuietly(logFile(key));
  }

  @Override
  public boolean supportsSuspend() {
    return true;
  }

  @Override
  public void suspend(PreviewKey key) {
    LocalState s = read(key).orElseThrow(() -> notFound(key));
    s = dropFallback(key, stopPrevious(s));
    if (s.suspended()) {
      return;
    }
    stopCurrent(s);
    write(s.withSuspended(true, now()));
  }

  @Override
  public Environment resume(PreviewKey key) {
    LocalState s = stopPrevious(read(key).orElseThrow(() -> notFound(key)));
    if (!s.suspended() && live(s).isPresent()) {
      return toEnvironment(s);
    }
    EnvironmentSpec spec = lastSpecs.get(key);
    Map<String, Secret> secrets = Map.of();
    if (!s.secretNames().isEmpty()) {
      if (spec == null || !spec.revision().equals(s.revision())) {
        throw new ProviderException(NAME, "cannot resume " + key.id() + ": it needs the secrets "
            + s.secretNames() + ", which are never written to disk and are not known to this instance;"
            + " apply its spec again instead (a push redeploys it)", false);
      }
      secrets = spec.secrets();
    }
    return start(key, s.revision(), s.command(), s.workDir() == null ? workDir : Path.of(s.workDir()), s.env(), secrets,
        s.labels(), s.fingerprint(), new ArrayList<>(), null);
  }

  /** The last lines of the app's output, without the secrets this instance gave it. */
  @Override
  public List<String> logs(PreviewKey key, int lines) {
    EnvironmentSpec spec = lastSpecs.get(key);
    EnvironmentSpec kept = keptSpecs.get(key);
    List<String> tail = tail(logFile(key), lines);
    tail = kept == null ? tail : Redactor.of(kept.secrets()).redact(tail); // both revisions write to the log
    return spec == null ? tail : Redactor.of(spec.secrets()).redact(tail);
  }

  /**
   * The app's process has exited (it is not suspended, and no process with its PID and start
   * instant runs): its exit code when this instance started it, else unknown. Nothing restarts a
   * local app, so {@code restarts} is 0.
   */
  @Override
  public Optional<AppExit> exitStatus(PreviewKey key) {
    Optional<LocalState> state = read(key);
    if (state.isEmpty() || state.get().suspended() || state.get().pid() <= 0 || live(state.get()).isPresent()) {
      return Optional.empty();
    }
    Process p = children.get(key);
    Integer code = p != null && p.pid() == state.get().pid() && !p.isAlive() ? p.exitValue() : null;
    return Optional.of(AppExit.exited(code));
  }

  /**
   * Takes the failed revision out of service: its process is stopped and, when the previous
   * revision was kept serving beside it (every update keeps it, on its own port, until
   * {@link #acceptRevision}), that one is the state again: {@link #find} reports it RUNNING, at its
   * URL. Else the failed revision is reported FAILED. Either way the state file records
   * {@link Labels#FAILED_REVISION}, so {@link #find} and {@link #list()} of any instance tell; the log
   * stays for {@link #logs}, without the secrets this instance gave it. The next {@link #apply} starts
   * afresh and drops the mark. Idempotent; nothing when another revision is the state.
   */
  @Override
  public Optional<Environment> rejectRevision(PreviewKey key, String revision) {
    Optional<LocalState> state = read(key);
    if (state.isEmpty() || !state.get().revision().equals(revision)) {
      return state.map(this::toEnvironment);
    }
    LocalState s = stopPrevious(state.get());
    stopCurrent(s);
    EnvironmentSpec spec = lastSpecs.get(key);
    if (spec != null) {
      redactFile(logFile(key), Redactor.of(spec.secrets()));
    }
    LocalState back = rollBack(key, s, revision);
    if (back != null) {
      return Optional.of(toEnvironment(back));
    }
    keptSpecs.remove(key);
    Map<String, String> labels = new LinkedHashMap<>(s.labels());
    labels.put(Labels.FAILED_REVISION, revision);
    s = s.withLabels(labels, now()).withFallback(null, now());
    write(s);
    LOG.info("local: stopped {} revision {} (PID {}): it failed its readiness gate", key.id(), revision, s.pid());
    return Optional.of(toEnvironment(s));
  }

  /**
   * {@code revision} passed its readiness gate: the previous revision's process, kept serving beside
   * it, is stopped. Idempotent; nothing when another revision is the state or none is kept.
   */
  @Override
  public void acceptRevision(PreviewKey key, String revision) {
    Optional<LocalState> state = read(key);
    if (state.isPresent() && state.get().revision().equals(revision) && state.get().fallback() != null) {
      LocalState f = state.get().fallback();
      dropFallback(key, state.get());
      LOG.info("local: stopped {} revision {} (PID {}): revision {} passed its readiness gate", key.id(), f.revision(),
          f.pid(), revision);
    }
  }

  /**
   * Rewrites a stopped app's log without the secret values it printed (an app that dumps its env on
   * a crash). The log of a running app is the app's own output as written, in the mode 700
   * state directory: {@link #logs} redacts what it returns.
   */
  private static void redactFile(Path log, Redactor secrets) {
    if (secrets.isEmpty() || !Files.isRegularFile(log)) {
      return;
    }
    try {
      String text = Files.readString(log, StandardCharsets.UTF_8);
      String clean = secrets.redact(text);
      if (!clean.equals(text)) {
        Path tmp = log.resolveSibling(log.getFileName() + ".tmp");
        Files.writeString(tmp, clean, StandardCharsets.UTF_8);
        Files.move(tmp, log, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      LOG.warn("local: cannot redact {}: {}; removing it", log, e.getMessage());
      deleteQuietly(log);
    }
  }

  private Environment start(PreviewKey key, String revision, List<String> command, Path dir, Map<String, String> env,
      Map<String, Secret> secrets, Map<String, String> labels, String fingerprint, List<LocalState.Proc> previous,
      @Nullable LocalState fallback) {
    ensureStateDir();
    Integer uid = uid(key);
    if (uid != null && !dir.equals(workDir)) {
      own(dir, uid); // the preview's own checkout (build.from: source): its user may write there, no one else
    }
    int port = freePort();
    Path log = logFile(key);
    LocalState starting = new LocalState(key.id(), installation.instance(), revision, fingerprint, 0, null, port,
        "http://" + host + ":" + port + "/", labels, command, dir.toString(), log.toString(), env,
        List.copyOf(new TreeMap<>(secrets).keySet()), false, previous, now(), uid, fallback);
    write(starting);
    appendLog(log, "--- preview: starting revision " + revision + " on port " + port + " at " + now() + " ---");
    Process process;
    try {
      process = processBuilder(command, dir, env, secrets, port, starting.url(), log, uid).start();
    } catch (IOException e) {
      handedOut.remove(port);
      rollBack(key, stopPrevious(starting), revision);
      throw new ProviderException(NAME, "cannot start the app of " + key.id() + ": command \"" + command.get(0)
          + "\" could not be run in " + dir + " (" + e.getMessage() + "); check app.command"
          + " (or environment.command) in preview.yaml: the executable must exist and be on the PATH", false, e);
    }
    closeQuietly(process);
    children.put(key, process);
    String startedAt = process.info().startInstant().map(Instant::toString).orElse(null);
    LocalState running = starting.withProcess(process.pid(), startedAt, now());
    write(running);
    try {
      awaitStarted(key, process, port, command, dir, log, Redactor.of(secrets));
    } catch (RuntimeException e) {
      // it exited at once: the revision kept serving (if any) is the state again, marked
      rollBack(key, running, revision);
      throw e;
    } finally {
      handedOut.remove(port);
      running = read(key).orElse(running);
      running = stopPrevious(running);
    }
    LOG.info("local: started {} revision {} as PID {} at {}", key.id(), revision, process.pid(), running.url());
    return toEnvironment(running);
  }

  /**
   * With {@code environment.user}: the build runs as the preview's own uid (the one its app gets),
   * through the same {@code setpriv} as the app, in its checkout, which is handed to that uid first.
   * Without it, as the server's own user.
   */
  @Override
  public List<String> buildCommand(PreviewKey key, Path workspace, List<String> command) {
    Objects.requireNonNull(key, "key");
    if (user == null) {
      return command;
    }
    ensureStateDir(); // the uids handed out are read off the state files
    Integer uid = uid(key);
    own(workspace, uid);
    return asUser(uid, command);
  }

  private List<String> asUser(int uid, List<String> command) {
    List<String> argv = new ArrayList<>(List.of(SETPRIV, "--reuid=" + uid, "--regid=" + user.gid(uid), "--clear-groups",
        "--no-new-privs", "--"));
    argv.addAll(command);
    return List.copyOf(argv);
  }

  private ProcessBuilder processBuilder(List<String> command, Path dir, Map<String, String> env,
      Map<String, Secret> secrets, int port, String url, Path log, Integer uid) {
    List<String> argv = command;
    if (uid != null) {
      // Its own uid: no other preview (nor the server) can read its /proc/PID/environ, signal it or
      // write its files. setpriv execs the app, so the PID recorded is the app's.
      argv = asUser(uid, command);
    }
    ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile());
    Map<String, String> penv = pb.environment();
    penv.keySet().retainAll(inheritEnv);
    penv.putAll(env);
    secrets.forEach((name, value) -> penv.put(name, value.reveal()));
    penv.put("PORT", Integer.toString(port));
    // Without a public hostname, the app's own address is its URL.
    penv.putIfAbsent("PREVIEW_URL", url);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return pb;
  }

  /**
   * Returns once the app accepts connections on its port, or {@link Builder#startCheck} has passed
   * with the process alive (the caller's readiness gate takes over); throws if it exits first.
   */
  private void awaitStarted(PreviewKey key, Process process, int port, List<String> command, Path dir, Path log,
      Redactor secrets) {
    long deadline = System.nanoTime() + startCheck.toNanos();
    while (true) {
      if (!process.isAlive()) {
        redactFile(log, secrets); // an app that printed its env and died leaves no secret at rest
        throw exitedAtOnce(key, process, command, dir, log);
      }
      if (accepts(port)) {
        return;
      }
      if (System.nanoTime() >= deadline) {
        return;
      }
      try {
        // Waits on the process's exit, so a crash is seen at once; otherwise re-probes the port.
        process.onExit().get(50, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // still running: probe again
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ProviderException(NAME, "interrupted while starting " + key.id(), true, e);
      }
    }
  }

  private ProviderException exitedAtOnce(PreviewKey key, Process process, List<String> command, Path dir, Path log) {
    List<String> lines = tail(log, LOG_TAIL_ON_FAILURE);
    return new ProviderException(NAME, "the app of " + key.id() + " exited at once with code "
        + process.exitValue() + " (command " + describe(command) + ", working directory " + dir + ", log " + log + ")"
        + (lines.isEmpty() ? "; it printed nothing" : "; its last log lines:\n  " + String.join("\n  ", lines)),
        false);
  }

  /** The command for messages: long arguments (class paths) cut, so the reason stays readable. */
  static String describe(List<String> command) {
    List<String> out = new ArrayList<>();
    for (String a : command) {
      out.add(a.length() > 60 ? a.substring(0, 28) + "..." + a.substring(a.length() - 28) : a);
    }
    return String.join(" ", out);
  }

  private boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private int freePort() {
    for (int attempt = 0; attempt < 20; attempt++) {
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = s.getLocalPort();
        if (handedOut.add(port)) {
          return port;
        }
      } catch (IOException e) {
        throw new ProviderException(NAME, "cannot find a free port: " + e.getMessage(), true, e);
      }
    }
    throw new ProviderException(NAME, "cannot find a free port", true);
  }

  /** Stops the processes of older revisions left in the state (after a crash) and clears them. */
  private LocalState stopPrevious(LocalState s) {
    if (s.previous().isEmpty()) {
      return s;
    }
    List<LocalState.Proc> left = new ArrayList<>();
    for (LocalState.Proc p : s.previous()) {
      ProcessTree.find(p.pid(), instant(p.startedAt())).ifPresent(h -> {
        if (!ProcessTree.stop(h, stopTimeout)) {
          left.add(p);
        }
      });
    }
    LocalState cleared = s.withPrevious(left, now());
    write(cleared);
    if (!left.isEmpty()) {
      throw new ProviderException(NAME, "could not stop the old process(es) " + left + " of " + s.key(), true);
    }
    return cleared;
  }

  /** setpriv of util-linux: sets the uid, gid and groups, then execs the app. */
  static final String SETPRIV = "/usr/bin/setpriv";

  /**
   * The uid {@code key}'s app runs as: null without {@code environment.user}; the fixed one; or, with
   * {@code auto}, the one its state file records, else the lowest of the range that no state file in
   * the state directory (of any instance) records and no start of this instance holds.
   */
  private @Nullable Integer uid(PreviewKey key) {
    if (user == null) {
      return null;
    }
    if (user.fixedUid() != null) {
      return user.fixedUid();
    }
    Optional<LocalState> mine = readFile(stateFile(key)).filter(s -> key.id().equals(s.key()));
    if (mine.isPresent() && mine.get().uid() != null) {
      return mine.get().uid();
    }
    synchronized (uidsHandedOut) {
      Integer handed = uidsHandedOut.get(key);
      if (handed != null) {
        return handed; // given to its build, before its first start wrote a state file
      }
      Set<Integer> taken = new java.util.HashSet<>(uidsHandedOut.values());
      try (DirectoryStream<Path> files = Files.newDirectoryStream(stateDir, "*.json")) {
        for (Path f : files) {
          readFile(f).map(LocalState::uid).ifPresent(taken::add);
        }
      } catch (IOException e) {
        throw new ProviderException(NAME, "cannot list state directory " + stateDir + ": " + e.getMessage(), true, e);
      }
      for (int u = user.low(); u <= user.high(); u++) {
        if (!taken.contains(u)) {
          uidsHandedOut.put(key, u);
          return u;
        }
      }
    }
    throw new ProviderException(NAME, "no free uid for " + key.id() + ": every uid of environment.uids ("
        + user.low() + "-" + user.high() + ") is taken by a preview in " + stateDir
        + "; widen the range or remove previews", true);
  }

  /** Makes {@code dir} (recursively) owned by {@code uid}, so the preview's user can work in its own checkout. */
  private void own(Path dir, int uid) {
    try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", user.gid(uid), java.nio.file.LinkOption.NOFOLLOW_LINKS);
      }
    } catch (IOException | UnsupportedOperationException e) {
      throw new ProviderException(NAME, "cannot give " + dir + " to uid " + uid + " (environment.user): "
          + e.getMessage(), false, e);
    }
  }

  /** This JVM's uid, or -1 where the file system does not tell. */
  public static int currentUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * {@code environment.user}: {@code auto} (one uid per preview from {@code environment.uids}) or a
   * fixed {@code uid[:gid]}.
   */
  record User(@Nullable Integer fixedUid, @Nullable Integer fixedGid, int low, int high) {
    int gid(int uid) {
      return fixedUid != null && fixedGid != null ? fixedGid : uid;
    }
  }

  private void stopCurrent(LocalState s) {
    Optional<ProcessHandle> h = live(s);
    if (h.isPresent() && !ProcessTree.stop(h.get(), stopTimeout)) {
      throw new ProviderException(NAME, "could not stop process " + s.pid() + " of " + s.key()
          + " (nor its children) within " + stopTimeout.plusSeconds(10).toSeconds() + "s", true);
    }
  }

  private Optional<ProcessHandle> live(LocalState s) {
    return ProcessTree.find(s.pid(), instant(s.startedAt()));
  }

  private Environment toEnvironment(LocalState s) {
    Environment.Phase phase;
    if (s.suspended()) {
      phase = Environment.Phase.SUSPENDED;
    } else if (s.pid() <= 0) {
      phase = Environment.Phase.STARTING;
    } else {
      phase = live(s).isPresent() ? Environment.Phase.RUNNING : Environment.Phase.FAILED;
    }
    return new Environment(PreviewKey.parse(s.key()), s.revision(), URI.create(s.url()), phase, s.labels());
  }

  /**
   * This installation's state of {@code key}, if any: a file of another instance is not ours, and neither is a
   * file under this key's name that records another key (two keys whose names collide).
   */
  private Optional<LocalState> read(PreviewKey key) {
    return readFile(stateFile(key)).filter(this::ours).filter(s -> key.id().equals(s.key()));
  }

  /** Like {@link #read}, but refuses when the file of {@code key} belongs to another instance (or none). */
  private Optional<LocalState> readForWrite(PreviewKey key) {
    Optional<LocalState> s = readFile(stateFile(key));
    if (s.isPresent() && !ours(s.get())) {
      throw new ProviderException(NAME, "state file " + stateFile(key) + " of " + key.id() + " records instance "
          + (s.get().instance() == null ? "none (it was written before instances were recorded)"
              : "\"" + s.get().instance() + "\"")
          + ", not \"" + installation.instance() + "\"; it is not ours, so it is left alone. Stop its process (PID "
          + s.get().pid() + ") and remove the file, or give this installation its own environment.stateDir", false);
    }
    if (s.isPresent() && !key.id().equals(s.get().key())) {
      throw new ProviderException(NAME, "state file " + stateFile(key) + " records preview " + s.get().key()
          + ", not " + key.id() + ": the two names collide, so it is left alone and " + key.id()
          + " is not deployed. Delete " + s.get().key() + " first, or give this installation its own "
          + "environment.stateDir", false);
    }
    return s;
  }

  private boolean ours(LocalState s) {
    return installation.instance().equals(s.instance());
  }

  private Optional<LocalState> readFile(Path f) {
    try {
      LocalState s = json.readValue(Files.readAllBytes(f), LocalState.class);
      if (s.key() == null || s.url() == null || s.revision() == null) {
        LOG.warn("local: ignoring state file {} without key, revision or url", f);
        return Optional.empty();
      }
      PreviewKey.parse(s.key());
      return Optional.of(s);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | IllegalArgumentException e) {
      LOG.warn("local: ignoring unreadable state file {}: {}", f, e.getMessage());
      return Optional.empty();
    }
  }

  /** Writes atomically (temp file + rename), so a crash never leaves half a state file. */
  private void write(LocalState s) {
    ensureStateDir();
    Path target = stateFile(PreviewKey.parse(s.key()));
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      Files.write(tmp, json.writeValueAsBytes(s));
      try {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot write state file " + target + ": " + e.getMessage(), true, e);
    }
  }

  private void ensureStateDir() {
    if (Files.isDirectory(stateDir)) {
      return;
    }
    try {
      Files.createDirectories(stateDir);
      try {
        // The logs may hold whatever the apps print: keep them to this user.
        Files.setPosixFilePermissions(stateDir, PosixFilePermissions.fromString("rwx------"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system
      }
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot create state directory " + stateDir + ": " + e.getMessage()
          + "; set environment.stateDir to a writable directory", false, e);
    }
  }

  private Path stateFile(PreviewKey key) {
    return stateDir.resolve(Names.dnsLabel(installation, key) + ".json");
  }

  private Path logFile(PreviewKey key) {
    return stateDir.resolve(Names.dnsLabel(installation, key) + ".log");
  }

  private static void appendLog(Path log, String line) {
    try {
      Files.writeString(log, line + System.lineSeparator(), StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot write log file " + log + ": " + e.getMessage(), true, e);
    }
  }

  /** The last {@code lines} lines of a file, reading at most its last 256 KiB. */
  static List<String> tail(Path file, int lines) {
    if (lines <= 0 || !Files.isRegularFile(file)) {
      return List.of();
    }
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long len = f.length();
      long from = Math.max(0, len - MAX_TAIL_BYTES);
      byte[] buf = new byte[(int) (len - from)];
      f.seek(from);
      f.readFully(buf);
      List<String> all = new ArrayList<>(Arrays.asList(new String(buf, StandardCharsets.UTF_8).split("\r?\n")));
      if (from > 0 && !all.isEmpty()) {
        all.remove(0); // a partial line
      }
      while (!all.isEmpty() && all.get(all.size() - 1).isEmpty()) {
        all.remove(all.size() - 1);
      }
      return List.copyOf(all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return List.of();
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.warn("local: cannot remove {}: {}", p, e.getMessage());
    }
  }

  private static void closeQuietly(Process p) {
    try {
      p.getOutputStream().close();
    } catch (IOException e) {
      // the app reads no input; nothing to do
    }
  }

  private ProviderException notFound(PreviewKey key) {
    return new ProviderException(NAME, "no environment for " + key.id() + " in " + stateDir, false);
  }

  /**
   * Whether the secrets of {@code spec} are those the running process got. Only this instance's
   * memory can tell: the state file holds no secret nor anything derived from one (a hash would let
   * its reader confirm a guessed secret offline). A new instance (after a restart) that applies a
   * spec with secrets therefore restarts the app once.
   */
  private static boolean sameSecrets(EnvironmentSpec known, EnvironmentSpec spec) {
    if (spec.secrets().isEmpty()) {
      return true;
    }
    return known != null && known.revision().equals(spec.revision()) && known.secrets().equals(spec.secrets());
  }

  /**
   * Tells whether a re-apply changes anything but the secret values: SHA-256 of the command, working
   * directory, hostname, plain env, flags and the secret NAMES. Nothing in it depends on a secret's value.
   */
  private static String fingerprint(EnvironmentSpec spec, List<String> command, Path dir) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      StringBuilder sb = new StringBuilder();
      sb.append(command).append('\0').append(dir).append('\0').append(spec.hostname()).append('\0');
      new TreeMap<>(spec.env()).forEach((k, v) -> sb.append(k).append('=').append(v).append('\0'));
      sb.append("flags=").append(new TreeMap<>(spec.flags())).append('\0');
      sb.append("secrets=").append(new TreeMap<>(spec.secrets()).keySet()).append('\0');
      return HexFormat.of().formatHex(md.digest(sb.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private String now() {
    return clock.instant().toString();
  }

  private static Instant instant(String s) {
    return s == null ? null : Instant.parse(s);
  }

  @Override
  public String toString() {
    return "LocalEnvironmentProvider{instance=" + installation.instance() + ", stateDir=" + stateDir + ", workDir="
        + workDir + ", host=" + host + "}";
  }

  /**
   * Builds a {@link LocalEnvironmentProvider}. Defaults: state in {@code .preview/local}, working
   * directory the current one, host {@code 127.0.0.1}, stop grace 10 s, start check 2 s.
   */
  public static final class Builder {
    private Path stateDir = Path.of(".preview", "local");
    private Path workDir = Path.of("");
    private String host = "127.0.0.1";
    private List<String> command = List.of();
    private final Set<String> inheritEnv = new LinkedHashSet<>(DEFAULT_INHERITED_ENV);
    private Duration stopTimeout = Duration.ofSeconds(10);
    private Duration startCheck = Duration.ofSeconds(2);
    private Installation installation = Installation.defaults();
    private Clock clock;
    private String userSpec;
    private String uidRange = DEFAULT_UIDS;
    private User user;

    private Builder() {}

    /**
     * Whose uid the apps run as, when this JVM runs as root: {@code auto} gives each preview its own
     * uid (and gid) from {@link #uids}, so no preview can read another's {@code /proc/PID/environ}
     * (its secrets), signal it or touch its files; {@code UID} or {@code UID:GID} runs every app as
     * that one user (apart from the server, not from each other). Null or empty: this JVM's own user.
     * Started through {@code setpriv} (util-linux) with no supplementary groups and no-new-privs.
     */
    public Builder user(String user) { this.userSpec = user; return this; }

    /** The uids {@code user: auto} hands out, {@code LOW-HIGH} (default {@value #DEFAULT_UIDS}): no account may use them. */
    public Builder uids(String range) { this.uidRange = Objects.requireNonNull(range, "uids"); return this; }

    /** Where the state files and logs live; created (mode 700) when first needed. */
    public Builder stateDir(Path dir) { this.stateDir = Objects.requireNonNull(dir, "stateDir"); return this; }

    /** The working directory of the apps, unless a spec has a build context (the PR's checkout with {@code build.from: source}). */
    public Builder workDir(Path dir) { this.workDir = Objects.requireNonNull(dir, "workDir"); return this; }

    /** The host name in the URLs (the apps run on this machine). */
    public Builder host(String host) { this.host = Objects.requireNonNull(host, "host"); return this; }

    /** The command run when a spec has none. */
    public Builder command(List<String> command) {
      this.command = List.copyOf(Objects.requireNonNull(command, "command"));
      return this;
    }

    /** Adds names of this JVM's env vars that the apps inherit (beyond {@link #DEFAULT_INHERITED_ENV}). */
    public Builder inheritEnv(List<String> names) {
      this.inheritEnv.addAll(Objects.requireNonNull(names, "inheritEnv"));
      return this;
    }

    /** How long a stopped app may take to exit after SIGTERM before it is killed. */
    public Builder stopTimeout(Duration d) { this.stopTimeout = Objects.requireNonNull(d, "stopTimeout"); return this; }

    /**
     * How long {@code apply} watches a new process for an immediate exit, unless it accepts
     * connections on its port earlier.
     */
    public Builder startCheck(Duration d) { this.startCheck = Objects.requireNonNull(d, "startCheck"); return this; }

    /**
     * The installation the provider belongs to (default {@link Installation#defaults()}): its
     * instance is recorded in every state file and selects what {@code list()} and {@code find()}
     * see; its clock stamps the state files unless {@link #clock} is set.
     */
    public Builder installation(Installation installation) {
      this.installation = Objects.requireNonNull(installation, "installation");
      return this;
    }

    /** Overrides the installation's clock for the state files' timestamps. */
    public Builder clock(Clock clock) { this.clock = Objects.requireNonNull(clock, "clock"); return this; }

    /** @throws ConfigurationException naming every invalid value and how to fix it */
    public LocalEnvironmentProvider build() {
      List<String> problems = new ArrayList<>();
      if (host.isBlank()) {
        problems.add("environment.host: must be a host name or IP for the preview URLs, e.g. 127.0.0.1; got \"\"");
      }
      if (stopTimeout.isNegative()) {
        problems.add("environment.stopTimeout: must not be negative, e.g. 10s; got " + stopTimeout);
      }
      if (startCheck.isNegative()) {
        problems.add("environment.startCheck: must not be negative, e.g. 2s; got " + startCheck);
      }
      user = null;
      if (userSpec != null && !userSpec.isBlank()) {
        user = parseUser(userSpec.trim(), uidRange, problems);
        int me = currentUid();
        if (user != null && me != 0) {
          problems.add("environment.user: running the apps as another user needs this server to run as root"
              + " (it runs as uid " + me + "); remove environment.user, or run the server as root");
        } else if (user != null && !Files.isExecutable(Path.of(SETPRIV))) {
          problems.add("environment.user: needs " + SETPRIV + " (util-linux) to start the apps as their user;"
              + " install it (apt-get install util-linux) or remove environment.user");
        }
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      if (user == null && currentUid() == 0) {
        LOG.warn("local: this server runs as root and environment.user is not set, so every preview's app (and"
            + " app.build) runs as root, and each can read the others' secrets in /proc; set environment.user: auto"
            + " to run each preview under its own uid (fork PRs' checkouts are refused as root meanwhile)");
      }
      return new LocalEnvironmentProvider(this);
    }
  }

  /** Default range of {@code environment.uids}. */
  public static final String DEFAULT_UIDS = "2000000-2099999";

  private static @Nullable User parseUser(String spec, String range, List<String> problems) {
    java.util.regex.Matcher r = java.util.regex.Pattern.compile("(\\d{1,10})\\s*-\\s*(\\d{1,10})").matcher(range.trim());
    long low = 0;
    long high = -1;
    if (r.matches()) {
      low = Long.parseLong(r.group(1));
      high = Long.parseLong(r.group(2));
    }
    if (!r.matches() || low < 1000 || high < low || high > Integer.MAX_VALUE) {
      problems.add("environment.uids: must be a range LOW-HIGH of uids from 1000 up that no account uses, e.g. "
          + DEFAULT_UIDS + "; got \"" + range + "\"");
      return null;
    }
    if (spec.equalsIgnoreCase("auto")) {
      return new User(null, null, (int) low, (int) high);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,10})(?::(\\d{1,10}))?").matcher(spec);
    if (!m.matches() || Long.parseLong(m.group(1)) == 0 || Long.parseLong(m.group(1)) > Integer.MAX_VALUE
        || (m.group(2) != null && Long.parseLong(m.group(2)) > Integer.MAX_VALUE)) {
      problems.add("environment.user: must be auto (one uid per preview) or a uid other than 0, optionally with"
          + " a gid (UID or UID:GID, e.g. 1500:1500); got \"" + spec + "\"");
      return null;
    }
    int uid = Integer.parseInt(m.group(1));
    return new User(uid, m.group(2) == null ? uid : Integer.parseInt(m.group(2)), (int) low, (int) high);
  }

  /**
   * Makes {@code environment.provider: local} work (registered in
   * {@code META-INF/services/dev.preview.spi.EnvironmentProvider$Factory}). Its keys:
   *
   * <pre>{@code
   * environment:
   *   provider: local
   *   stateDir: .preview/local     # state files and logs (may be shared by several instances)
   *   workDir: .                   # working directory of the apps
   *   host: 127.0.0.1              # host in the URLs
   *   command: [java, -jar, app.jar]   # used when app.command is not set
   *   inheritEnv: [MAVEN_OPTS]     # more env vars of this JVM the apps inherit
   *   stopTimeout: 10s             # SIGTERM grace before SIGKILL
   *   startCheck: 2s               # how long apply watches for an immediate exit
   *   user: auto                   # as root: each preview under its own uid (or UID[:GID] for all)
   *   uids: 2000000-2099999        # the uids user: auto hands out
   * }</pre>
   *
   * <p>The instance and the clock come from the {@link Installation} of the context.
   */
  public static final class Factory implements EnvironmentProvider.Factory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public EnvironmentProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider");
      Builder b = builder()
          .installation(context.installation())
          .stateDir(Path.of(config.string("stateDir", ".preview/local")))
          .workDir(Path.of(config.string("workDir", "")))
          .host(config.string("host", "127.0.0.1"))
          .command(config.strings("command"))
          .inheritEnv(config.strings("inheritEnv"))
          .stopTimeout(config.duration("stopTimeout", Duration.ofSeconds(10)))
          .startCheck(config.duration("startCheck", Duration.ofSeconds(2)))
          .user(config.string("user", null))
          .uids(config.string("uids", DEFAULT_UIDS));
      config.validate();
      return b.build();
    }
  }

  // ------------------------------------------------------------------ relabel (the gateway's visits)

  @Override
  public boolean supportsRelabel() {
    return true;
  }

  /**
   * Merges lifecycle labels into the state file, leaving the process alone. The orchestrator may be
   * applying the same key at that moment (the gateway calls this outside its per-key order), so the
   * write is optimistic: it happens only if the file is still the one read (same {@code updatedAt},
   * pid and revision), else the merge is retried on the newer file; a state file of an apply is never
   * overwritten with an older one.
   */
  @Override
  public Optional<Environment> relabel(PreviewKey key, Map<String, String> changes) {
    Labels.requireLifecycle(changes);
    for (int attempt = 0; attempt < 5; attempt++) {
      Optional<LocalState> read = read(key);
      if (read.isEmpty()) {
        return Optional.empty();
      }
      LocalState s = read.get();
      Map<String, String> merged = new LinkedHashMap<>(s.labels());
      changes.forEach((name, value) -> {
        if (value.isEmpty()) {
          merged.remove(name);
        } else {
          merged.put(name, value);
        }
      });
      if (merged.equals(s.labels())) {
        return Optional.of(toEnvironment(s));
      }
      LocalState changed = s.withLabels(merged, now());
      synchronized (relabelLock) {
        Optional<LocalState> again = read(key);
        if (again.isEmpty()) {
          return Optional.empty();
        }
        if (sameVersion(again.get(), s)) {
          write(changed);
          return Optional.of(toEnvironment(changed));
        }
      }
    }
    throw new ProviderException(NAME, "could not change the labels of " + key.id()
        + ": its state file kept changing (a deploy is running); try again", true);
  }

  private final Object relabelLock = new Object();

  private static boolean sameVersion(LocalState a, LocalState b) {
    return Objects.equals(a.updatedAt(), b.updatedAt()) && a.pid() == b.pid() && a.revision().equals(b.revision())
        && a.suspended() == b.suspended() && a.labels().equals(b.labels());
  }
}
