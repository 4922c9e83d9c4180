package dev.preview.docker;

import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a PR's containers off the Docker host's own services and off the addresses of
 * {@code denyEgress} (the cloud metadata services by default). Every preview bridge is named
 * {@code pv-<hash>} ({@link DockerEnvironmentProvider#bridgeName}), so two chains cover all of them
 * and nothing else:
 * <ul>
 *   <li>{@value #HOST_CHAIN}, jumped to from {@code INPUT -i pv-+}: replies (published ports, health
 *       checks) and the {@code allow} ports go on through {@code INPUT}, every other packet a
 *       container sends to one of the host's addresses is rejected;</li>
 *   <li>{@value #EGRESS_CHAIN}, jumped to from {@code FORWARD -i pv-+}: traffic to another bridge is
 *       left to Docker's own isolation, traffic to a {@code denyEgress} network is rejected.</li>
 * </ul>
 * Both are written in one {@code iptables-restore --noflush} transaction (IPv4, and IPv6 where the
 * kernel has it), only when what {@code iptables -S} shows differs from what they should hold, so a
 * repeated {@link #ensure} costs one {@code iptables -S} per family and a firewall reload that dropped
 * them is repaired by the next apply. They are never removed: they match preview bridges only.
 */
final class HostFirewall {
  static final String HOST_CHAIN = "PREVIEW-HOST";
  static final String EGRESS_CHAIN = "PREVIEW-EGRESS";
  static final String INTERFACES = "pv-+";

  private static final Logger log = LoggerFactory.getLogger(HostFirewall.class);
  private static final Pattern PORTS = Pattern.compile("(?:(tcp|udp)/)?(\\d{1,5})(?:-(\\d{1,5}))?");

  enum Mode { AUTO, REQUIRED, OFF }

  /** Ports previews may still open on the host ({@code low == high} for one). */
  record Ports(String protocol, int low, int high) {
    String match() {
      return "-p " + protocol + " -m " + protocol + " --dport " + (low == high ? "" + low : low + ":" + high);
    }
  }

  /** The {@code environment.hostFirewall} section. */
  record Settings(Mode mode, List<Ports> allow, List<String> denyEgress) {
    static Settings from(ProviderConfig c) {
      Mode mode = Mode.valueOf(c.choice("mode", "auto", "auto", "required", "off").toUpperCase(Locale.ROOT));
      List<Ports> allow = new ArrayList<>();
      List<String> a = c.strings("allow");
      for (int i = 0; i < a.size(); i++) {
        Matcher m = PORTS.matcher(a.get(i).trim());
        int low = m.matches() ? Integer.parseInt(m.group(2)) : 0;
        int high = m.matches() && m.group(3) != null ? Integer.parseInt(m.group(3)) : low;
        if (!m.matches() || low < 1 || high > 65535 || low > high) {
          c.problem("allow[" + i + "]", "must be a host port or range, optionally with its protocol (5432, 8000-8100,"
              + " udp/53), got \"" + a.get(i) + "\"");
        } else {
          allow.add(new Ports(m.group(1) == null ? "tcp" : m.group(1), low, high));
        }
      }
      return new Settings(mode, List.copyOf(allow), dev.preview.spi.Cidr.list(c, "denyEgress", dev.preview.spi.Cidr.METADATA));
    }
  }

  /** Runs a command with {@code stdin}; the seam of the unit tests. */
  interface Runner {
    Result run(List<String> command, String stdin) throws IOException;
  }

  record Result(int code, String output) {}

  /** One address family's tools. */
  private record Family(String name, String list, String restore, boolean v6) {}

  private static final Family IPV4 = new Family("IPv4", "iptables", "iptables-restore", false);
  private static final Family IPV6 = new Family("IPv6", "ip6tables", "ip6tables-restore", true);

  private final Settings settings;
  /** Null when the engine is on this machine; else why the rules cannot be set from here. */
  private final String remote;
  private final boolean ipv6;
  private final Runner runner;
  /** What {@code -S} printed for our chains after our last write, per family. */
  private final Map<String, List<String>> written = new HashMap<>();
  private boolean warned;

  HostFirewall(Settings settings, String engineHost, boolean ipv6, Runner runner) {
    this.settings = settings;
    this.remote = local(engineHost) ? null
        : "the Docker engine at " + engineHost + " is not on this machine, so its firewall is not this process's to set";
    this.ipv6 = ipv6;
    this.runner = runner;
  }

  static HostFirewall of(Settings settings, String engineHost) {
    return new HostFirewall(settings, engineHost, Files.exists(Path.of("/proc/net/if_inet6")), HostFirewall::exec);
  }

  /** A unix socket, or TCP to a loopback address: the engine's host is this one. */
  static boolean local(String engineHost) {
    if (engineHost.startsWith("unix://")) {
      return true;
    }
    if (!engineHost.startsWith("tcp://")) {
      return false;
    }
    return dev.preview.spi.RegistryManifests.loopback(engineHost.substring("tcp://".length()).replaceFirst("/.*$", ""));
  }

  /**
   * Makes sure the chains hold what they should, before a PR's container starts. In mode
   * {@code required} a host whose firewall cannot be set fails the apply (before anything is
   * created); in mode {@code auto} it is logged once, with the rules to set by hand.
   *
   * @return whether anything was written (false when the rules were already in place, or in mode off)
   */
  synchronized boolean ensure() {
    if (settings.mode() == Mode.OFF) {
      return false;
    }
    String why = remote;
    boolean changed = false;
    if (why == null) {
      try {
        changed = ensure(IPV4);
        if (ipv6) {
          changed |= ensure(IPV6);
        }
      } catch (Unavailable e) {
        why = e.getMessage();
      }
    }
    if (why == null) {
      return changed;
    }
    String rules = manualCommands() + " (and the same with ip6tables; see the preview-docker README)";
    if (settings.mode() == Mode.REQUIRED) {
      throw new ProviderException(DockerEnvironmentProvider.NAME, "environment.hostFirewall.mode is required, but the"
          + " rules that keep PR containers off the host's services cannot be set: " + why + ". Run preview as root on"
          + " the engine's host, or set them there yourself (" + rules + ") and set environment.hostFirewall.mode: off",
          false);
    }
    if (!warned) {
      warned = true;
      log.warn("docker: PR containers can reach every service listening on the Docker host's addresses (and {}): {}."
          + " Set the rules there yourself ({}), then set environment.hostFirewall.mode: off; or run preview as root"
          + " on the engine's host, which sets them", settings.denyEgress(), why, rules);
    }
    return false;
  }

  private boolean ensure(Family f) {
    List<String> shown = shown(f);
    List<String> ours = ours(shown);
    boolean hostJump = shown.contains("-A INPUT -i " + INTERFACES + " -j " + HOST_CHAIN);
    boolean egressJump = shown.contains("-A FORWARD -i " + INTERFACES + " -j " + EGRESS_CHAIN);
    List<String> wanted = rules(f);
    // iptables -S prints the chains in its own order: compare each chain's rules, in their order
    if (hostJump && egressJump && (byChain(ours).equals(byChain(written.get(f.name()))) || byChain(ours).equals(byChain(wanted)))) {
      return false;
    }
    StringBuilder restore = new StringBuilder("*filter\n:" + HOST_CHAIN + " - [0:0]\n:" + EGRESS_CHAIN + " - [0:0]\n");
    wanted.forEach(r -> restore.append(r).append('\n'));
    if (!hostJump) {
      restore.append("-I INPUT 1 -i " + INTERFACES + " -j " + HOST_CHAIN + "\n");
    }
    if (!egressJump) {
      restore.append("-I FORWARD 1 -i " + INTERFACES + " -j " + EGRESS_CHAIN + "\n");
    }
    restore.append("COMMIT\n");
    run(f, List.of(f.restore(), "-w", "--noflush"), restore.toString());
    List<String> now = ours(shown(f));
    written.put(f.name(), now);
    log.info("docker: {} firewall for preview bridges ({}) set: {} rules in {} and {}", f.name(), INTERFACES, now.size(),
        HOST_CHAIN, EGRESS_CHAIN);
    return true;
  }

  /** The filter table as {@code iptables -S} prints it, a trimmed line per rule. */
  private List<String> shown(Family f) {
    return run(f, List.of(f.list(), "-w", "-S"), "").output().lines().map(String::trim).toList();
  }

  /** The rules of our two chains among {@code shown}. */
  private static List<String> ours(List<String> shown) {
    return shown.stream().filter(l -> l.startsWith("-A " + HOST_CHAIN + " ") || l.startsWith("-A " + EGRESS_CHAIN + " "))
        .toList();
  }

  private static Map<String, List<String>> byChain(List<String> rules) {
    Map<String, List<String>> out = new java.util.TreeMap<>();
    if (rules != null) {
      rules.forEach(r -> out.computeIfAbsent(r.split(" ", 3)[1], c -> new ArrayList<>()).add(r));
    }
    return out;
  }

  /** The IPv4 rules as the commands an operator runs on the engine's host, for the messages. */
  String manualCommands() {
    List<String> out = new ArrayList<>(List.of("iptables -N " + HOST_CHAIN, "iptables -N " + EGRESS_CHAIN));
    rules(IPV4).forEach(r -> out.add("iptables " + r));
    out.add("iptables -I INPUT 1 -i " + INTERFACES + " -j " + HOST_CHAIN);
    out.add("iptables -I FORWARD 1 -i " + INTERFACES + " -j " + EGRESS_CHAIN);
    return String.join("; ", out);
  }

  /** Both chains' rules for a family, as {@code iptables -S} prints them. */
  List<String> rules(boolean v6) {
    return rules(v6 ? IPV6 : IPV4);
  }

  private List<String> rules(Family f) {
    List<String> out = new ArrayList<>();
    hostRules(f.v6()).forEach(r -> out.add("-A " + HOST_CHAIN + " " + r));
    out.add("-A " + EGRESS_CHAIN + " -o " + INTERFACES + " -j RETURN");
    for (String net : settings.denyEgress()) {
      if (dev.preview.spi.Cidr.ipv6(net) == f.v6()) {
        String d = dev.preview.spi.Cidr.withPrefix(net);
        out.add("-A " + EGRESS_CHAIN + " -d " + d + " -p tcp -j REJECT --reject-with tcp-reset");
        out.add("-A " + EGRESS_CHAIN + " -d " + d + " -j REJECT --reject-with " + unreachable(f.v6()));
      }
    }
    return out;
  }

  private List<String> hostRules(boolean v6) {
    List<String> out = new ArrayList<>();
    out.add("-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN");
    settings.allow().forEach(p -> out.add(p.match() + " -j RETURN"));
    out.add("-p tcp -j REJECT --reject-with tcp-reset");
    out.add("-j REJECT --reject-with " + unreachable(v6));
    return out;
  }

  private static String unreachable(boolean v6) {
    return v6 ? "icmp6-port-unreachable" : "icmp-port-unreachable";
  }

  private Result run(Family f, List<String> command, String stdin) {
    Result r;
    try {
      r = runner.run(command, stdin);
    } catch (IOException e) {
      throw new Unavailable(command.get(0) + " cannot be run (" + e.getMessage() + ")");
    }
    if (r.code() != 0) {
      String first = r.output().strip().lines().findFirst().orElse("exit code " + r.code());
      throw new Unavailable(String.join(" ", command) + " failed for " + f.name() + ": " + first);
    }
    return r;
  }

  private static Result exec(List<String> command, String stdin) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (var in = p.getOutputStream()) {
      in.write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("no answer within 30 s");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    return new Result(p.exitValue(), out);
  }

  /** The host's firewall cannot be read or written from this process. */
  private static final class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message, null, false, false);
    }
  }
}
