package dev.preview.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election over a {@code coordination.k8s.io/v1} Lease, so that several replicas of the
 * webhook server (or of any process driving previews) never act at once: only the leader handles
 * events and runs reconcile; the others wait and take over when the leader stops or dies.
 *
 * <pre>{@code
 * LeaderElection election = LeaderElection.builder(client)
 *     .namespace("preview-system").name("preview-serve")
 *     .build();
 * // the webhook server of preview-server acts only while election.isLeader()
 * WebhookServer server = WebhookServer.builder()...leadership(election::isLeader, Duration.ofSeconds(15)).start();
 * election.start();
 * ...
 * election.stop(); // releases the lease: another replica takes over at once
 * }</pre>
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>At most one identity holds the lease at a time; {@link #isLeader()} is true only between
 *       the {@code onStartLeading} and {@code onStopLeading} callbacks of this instance.</li>
 *   <li>A leader that cannot renew within {@code renewDeadline} stops leading (callback) before
 *       its lease can expire, so a partitioned replica stops acting before another one starts.</li>
 *   <li>{@link #stop()} releases the lease (unless {@code releaseOnStop(false)}), so a standby
 *       takes over after at most one {@code retryPeriod}; a replica that dies without releasing is
 *       replaced once {@code leaseDuration} has passed.</li>
 *   <li>Callbacks run on the election's thread; keep them short (start or stop work elsewhere).</li>
 *   <li>Thread-safe. {@link #start()} and {@link #stop()} are idempotent; a stopped election may be
 *       started again.</li>
 * </ul>
 */
public final class LeaderElection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);

  private final KubernetesClient client;
  private final boolean ownsClient;
  private final String namespace;
  private final String name;
  private final String identity;
  private final Duration leaseDuration;
  private final Duration renewDeadline;
  private final Duration retryPeriod;
  private final boolean releaseOnStop;
  private final Runnable onStartLeading;
  private final Runnable onStopLeading;
  private final Consumer<String> onNewLeader;
  private final AtomicBoolean leader = new AtomicBoolean();
  private final AtomicReference<String> currentLeader = new AtomicReference<>();
  private CompletableFuture<?> running;
  /** Bumped by every start and stop, so that late callbacks of an earlier run are ignored. */
  private volatile long generation;

  private LeaderElection(Builder b) {
    this.client = b.client;
    this.ownsClient = b.ownsClient;
    this.namespace = b.namespace;
    this.name = b.name;
    this.identity = b.identity;
    this.leaseDuration = b.leaseDuration;
    this.renewDeadline = b.renewDeadline;
    this.retryPeriod = b.retryPeriod;
    this.releaseOnStop = b.releaseOnStop;
    this.onStartLeading = b.onStartLeading;
    this.onStopLeading = b.onStopLeading;
    this.onNewLeader = b.onNewLeader;
  }

  /** A builder electing over {@code client}'s cluster. The client is not closed by this class. */
  public static Builder builder(KubernetesClient client) {
    return new Builder(Objects.requireNonNull(client, "client"), false);
  }

  /**
   * A builder with its own client, configured like {@code kubectl} (from {@code $KUBECONFIG} or
   * {@code ~/.kube/config}, else the in-cluster service account); {@link #close()} closes it.
   */
  public static Builder builder() {
    return new Builder(new KubernetesClientBuilder().build(), true);
  }

  /** Joins the election in the background; returns at once. Idempotent while running. */
  public synchronized void start() {
    if (running != null && !running.isDone()) {
      return;
    }
    long gen = ++generation;
    LeaderCallbacks callbacks = new LeaderCallbacks(() -> started(gen), () -> stopped(gen), this::newLeader);
    running = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
        .withName(name)
        .withLock(new LeaseLock(namespace, name, identity))
        .withLeaseDuration(leaseDuration)
        .withRenewDeadline(renewDeadline)
        .withRetryPeriod(retryPeriod)
        .withReleaseOnCancel(releaseOnStop)
        .withLeaderCallbacks(callbacks)
        .build()).build().start();
    running.whenComplete((v, t) -> {
      if (t != null && !(t instanceof java.util.concurrent.CancellationException)) {
        LOG.warn("leader election {}/{} for {} ended: {}", namespace, name, identity, t.toString());
      }
    });
    LOG.info("joined leader election {}/{} as {}", namespace, name, identity);
  }

  /** Leaves the election: stops leading (callback) and, by default, releases the lease. Idempotent. */
  public synchronized void stop() {
    generation++;
    if (running != null) {
      running.cancel(true);
      running = null;
    }
    // Fabric8 calls onStopLeading too, later and on its own thread: the generation makes that a no-op.
    if (leader.compareAndSet(true, false)) {
      LOG.info("{} stopped leading {}/{}", identity, namespace, name);
      onStopLeading.run();
    }
  }

  /** Stops, and closes the client if this election built it ({@link #builder()}). */
  @Override
  public void close() {
    stop();
    if (ownsClient) {
      client.close();
    }
  }

  /** Whether this instance leads now. */
  public boolean isLeader() {
    return leader.get();
  }

  /** The identity last seen holding the lease (this one or another replica's), if known. */
  public Optional<String> leader() {
    return Optional.ofNullable(currentLeader.get());
  }

  /** This instance's identity in the lease. */
  public String identity() {
    return identity;
  }

  private void started(long gen) {
    if (gen == generation && leader.compareAndSet(false, true)) {
      LOG.info("{} now leads {}/{}", identity, namespace, name);
      onStartLeading.run();
    }
  }

  private void stopped(long gen) {
    if (gen == generation && leader.compareAndSet(true, false)) {
      LOG.info("{} stopped leading {}/{}", identity, namespace, name);
      onStopLeading.run();
    }
  }

  private void newLeader(String id) {
    currentLeader.set(id);
    onNewLeader.accept(id);
  }

  /** Builds a {@link LeaderElection}; durations default to Kubernetes' own controllers' (15s, 10s, 2s). */
  public static final class Builder {
    private final KubernetesClient client;
    private final boolean ownsClient;
    private String namespace;
    private String name = "preview-leader";
    private String identity = defaultIdentity();
    private Duration leaseDuration = Duration.ofSeconds(15);
    private Duration renewDeadline = Duration.ofSeconds(10);
    private Duration retryPeriod = Duration.ofSeconds(2);
    private boolean releaseOnStop = true;
    private Runnable onStartLeading = () -> {};
    private Runnable onStopLeading = () -> {};
    private Consumer<String> onNewLeader = id -> {};

    private Builder(KubernetesClient client, boolean ownsClient) {
      this.client = client;
      this.ownsClient = ownsClient;
      this.namespace = client.getNamespace() == null ? "default" : client.getNamespace();
    }

    /** Namespace of the Lease; defaults to the client's namespace. */
    public Builder namespace(String namespace) { this.namespace = Objects.requireNonNull(namespace); return this; }
    /** Name of the Lease; every replica of one deployment uses the same name. */
    public Builder name(String name) { this.name = Objects.requireNonNull(name); return this; }
    /** Unique per replica; defaults to the host name plus a random suffix. */
    public Builder identity(String identity) { this.identity = Objects.requireNonNull(identity); return this; }
    public Builder leaseDuration(Duration d) { this.leaseDuration = Objects.requireNonNull(d); return this; }
    public Builder renewDeadline(Duration d) { this.renewDeadline = Objects.requireNonNull(d); return this; }
    public Builder retryPeriod(Duration d) { this.retryPeriod = Objects.requireNonNull(d); return this; }
    /** Whether {@link LeaderElection#stop()} releases the lease (default true: the next replica takes over at once). */
    public Builder releaseOnStop(boolean release) { this.releaseOnStop = release; return this; }
    public Builder onStartLeading(Runnable r) { this.onStartLeading = Objects.requireNonNull(r); return this; }
    public Builder onStopLeading(Runnable r) { this.onStopLeading = Objects.requireNonNull(r); return this; }
    /** Called with the identity of every newly observed leader, this instance's included. */
    public Builder onNewLeader(Consumer<String> c) { this.onNewLeader = Objects.requireNonNull(c); return this; }

    /**
     * @throws IllegalArgumentException unless leaseDuration &gt; renewDeadline &gt; 1.2 &times; retryPeriod
     *     (the leader must give up before its lease can expire)
     */
    public LeaderElection build() {
      if (leaseDuration.compareTo(renewDeadline) <= 0) {
        throw new IllegalArgumentException("leaseDuration (" + leaseDuration + ") must be longer than renewDeadline (" + renewDeadline + ")");
      }
      if (renewDeadline.toMillis() <= retryPeriod.toMillis() * 1.2) {
        throw new IllegalArgumentException("renewDeadline (" + renewDeadline + ") must be longer than 1.2 x retryPeriod (" + retryPeriod + ")");
      }
      return new LeaderElection(this);
    }

    private static String defaultIdentity() {
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (Exception e) {
        host = "preview";
      }
      return host + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
  }
}
