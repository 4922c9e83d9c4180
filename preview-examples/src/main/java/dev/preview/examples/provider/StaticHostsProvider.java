package dev.preview.examples.provider;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An example of a provider a user writes for infrastructure this project does not cover: a fixed
 * pool of pre-provisioned hosts ("staging slots"), each running an agent that deploys whatever its
 * lease file names. A preview leases one free host for as long as it lives.
 *
 * <p>The state lives on that infrastructure (with the ownership labels of {@code dev.preview.spi.Labels}), never in memory: under {@code dir} (a directory the
 * hosts' agents share, e.g. an NFS mount), each host has a directory {@code slot-<n>} with
 * <ul>
 *   <li>{@code claim}: the preview key holding the host, created with {@code CREATE_NEW} (an atomic
 *       test-and-set, so two orchestrators never lease one host twice);</li>
 *   <li>{@code lease.json}: key, revision, image or command, port, env and the ownership labels,
 *       replaced atomically; what {@link #list()} and {@link #find} read back;</li>
 *   <li>{@code secrets.env}: the secret env vars, {@code NAME=value} lines, mode 600: for the agent
 *       only, never in the lease, the labels or what this provider returns.</li>
 * </ul>
 * Idempotent: {@link #apply} reuses the host the key already holds (a claim left without a lease by
 * a crash included); {@link #delete} removes lease, secrets and then the claim, so a host is free
 * again only once nothing of the old preview is left. The URL of a preview is its host's URL.
 *
 * <p>Configured in {@code preview.yaml}:
 * <pre>{@code
 * environment:
 *   provider: static-hosts
 *   dir: /mnt/preview-slots
 *   hosts: [http://10.0.0.11:8080/, http://10.0.0.12:8080/]
 * }</pre>
 */
public final class StaticHostsProvider implements EnvironmentProvider {
  public static final String NAME = "static-hosts";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final List<URI> hosts;
  private final Installation installation;

  /**
   * A pool of {@code hosts} whose leases live under {@code dir}/{@code <instance>}: each installation
   * has its own leases, and {@link #list()} shows only leases whose labels its installation owns.
   */
  public StaticHostsProvider(Path dir, List<URI> hosts, Installation installation) {
    this.installation = Objects.requireNonNull(installation, "installation");
    this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize().resolve(installation.instance());
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("at least one host is required");
    }
    this.hosts = List.copyOf(hosts);
  }

  /** Found by {@link java.util.ServiceLoader}: {@code META-INF/services/dev.preview.spi.EnvironmentProvider$Factory}. */
  public static final class Factory implements EnvironmentProvider.Factory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public EnvironmentProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      String dir = config.requiredString("dir");
      List<URI> hosts = new ArrayList<>();
      for (String h : config.strings("hosts")) {
        try {
          URI uri = URI.create(h);
          if (uri.getScheme() == null || uri.getHost() == null) {
            config.problem("hosts", "must be URLs like http://10.0.0.11:8080/, got \"" + h + "\"");
          } else {
            hosts.add(uri);
          }
        } catch (IllegalArgumentException e) {
          config.problem("hosts", "must be URLs like http://10.0.0.11:8080/, got \"" + h + "\"");
        }
      }
      if (hosts.isEmpty() && config.problems().isEmpty()) {
        config.problem("hosts", "at least one host is required");
      }
      config.validate();
      return new StaticHostsProvider(Path.of(dir), hosts, context.installation());
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Environment apply(EnvironmentSpec spec) {
    int slot = claim(spec.key());
    Path slotDir = slotDir(slot);
    Map<String, Object> lease = new LinkedHashMap<>();
    lease.put("key", spec.key().id());
    lease.put("revision", spec.revision());
    lease.put("image", spec.image());
    lease.put("command", spec.command());
    lease.put("port", spec.port());
    lease.put("env", spec.env());
    lease.put("labels", spec.labels());
    try {
      writeSecrets(slotDir.resolve("secrets.env"), spec.secrets());
      Path tmp = Files.createTempFile(slotDir, "lease", ".tmp");
      Files.writeString(tmp, JSON.writeValueAsString(lease));
      Files.move(tmp, slotDir.resolve("lease.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot write the lease of " + spec.key() + " in " + slotDir + ": " + e.getMessage(), true, e);
    }
    return environment(slot, spec.key(), spec.revision(), spec.labels());
  }

  @Override
  public Optional<Environment> find(PreviewKey key) {
    return list().stream().filter(e -> e.key().equals(key)).findFirst();
  }

  @Override
  public List<Environment> list() {
    List<Environment> found = new ArrayList<>();
    for (int slot = 1; slot <= hosts.size(); slot++) {
      Path lease = slotDir(slot).resolve("lease.json");
      Map<String, Object> l;
      try {
        l = JSON.readValue(Files.readString(lease), new TypeReference<Map<String, Object>>() {});
      } catch (NoSuchFileException e) {
        continue;
      } catch (IOException e) {
        throw new ProviderException(NAME, "cannot read " + lease + ": " + e.getMessage(), true, e);
      }
      @SuppressWarnings("unchecked")
      Map<String, String> labels = (Map<String, String>) l.getOrDefault("labels", Map.of());
      if (!installation.owns(labels)) {
        continue; // another installation's (or nobody's) lease: not provably ours
      }
      found.add(environment(slot, PreviewKey.parse((String) l.get("key")), (String) l.get("revision"), labels));
    }
    return found;
  }

  @Override
  public void delete(PreviewKey key) {
    Optional<Integer> slot = slotOf(key);
    if (slot.isEmpty()) {
      return;
    }
    Path slotDir = slotDir(slot.get());
    try {
      Files.deleteIfExists(slotDir.resolve("lease.json"));
      Files.deleteIfExists(slotDir.resolve("secrets.env"));
      Files.deleteIfExists(slotDir.resolve("claim"));
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot release " + slotDir + " of " + key + ": " + e.getMessage(), true, e);
    }
  }

  @Override
  public String toString() {
    return "StaticHostsProvider[" + dir + ", " + hosts.size() + " hosts]";
  }

  /** The slot {@code key} holds, or the first free one it now holds. */
  private int claim(PreviewKey key) {
    Optional<Integer> held = slotOf(key);
    if (held.isPresent()) {
      return held.get();
    }
    for (int slot = 1; slot <= hosts.size(); slot++) {
      try {
        Files.createDirectories(slotDir(slot));
        Files.writeString(slotDir(slot).resolve("claim"), key.id(), StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
        return slot;
      } catch (FileAlreadyExistsException taken) {
        // another preview holds it
      } catch (IOException e) {
        throw new ProviderException(NAME, "cannot claim " + slotDir(slot) + ": " + e.getMessage(), true, e);
      }
    }
    throw new ProviderException(NAME, "no free host for " + key + ": all " + hosts.size() + " hosts are leased (add hosts,"
        + " or close previews)", true);
  }

  private Optional<Integer> slotOf(PreviewKey key) {
    for (int slot = 1; slot <= hosts.size(); slot++) {
      try {
        if (Files.readString(slotDir(slot).resolve("claim"), StandardCharsets.UTF_8).equals(key.id())) {
          return Optional.of(slot);
        }
      } catch (NoSuchFileException free) {
        // not claimed
      } catch (IOException e) {
        throw new ProviderException(NAME, "cannot read the claim of " + slotDir(slot) + ": " + e.getMessage(), true, e);
      }
    }
    return Optional.empty();
  }

  private Environment environment(int slot, PreviewKey key, String revision, Map<String, String> labels) {
    return new Environment(key, revision, hosts.get(slot - 1), Environment.Phase.RUNNING, labels);
  }

  private Path slotDir(int slot) {
    return dir.resolve("slot-" + slot);
  }

  private static void writeSecrets(Path file, Map<String, Secret> secrets) throws IOException {
    if (secrets.isEmpty()) {
      Files.deleteIfExists(file);
      return;
    }
    StringBuilder b = new StringBuilder();
    secrets.forEach((name, value) -> b.append(name).append('=').append(value.reveal()).append('\n'));
    Path tmp = Files.createTempFile(file.getParent(), "secrets", ".tmp", PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, b);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
