package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The firewall's decisions against a model of {@code iptables} (what {@code -S} prints, what a
 * {@code restore --noflush} does to it); the real one is driven by {@code DockerHostilePrIT}.
 */
class HostFirewallTest {

  /** iptables and ip6tables as far as the firewall uses them; records every command. */
  static final class FakeTables implements HostFirewall.Runner {
    final Map<String, List<String>> tables = new HashMap<>();
    final List<String> commands = new ArrayList<>();
    final List<String> restores = new ArrayList<>();
    HostFirewall.Result refuse;

    FakeTables() {
      for (String t : List.of("iptables", "ip6tables")) {
        tables.put(t, new ArrayList<>(List.of("-P INPUT ACCEPT", "-P FORWARD DROP", "-N DOCKER-USER",
            "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A FORWARD -j DOCKER-USER", "-A DOCKER-USER -j RETURN")));
      }
    }

    @Override
    public HostFirewall.Result run(List<String> command, String stdin) throws IOException {
      commands.add(String.join(" ", command));
      if (refuse != null) {
        return refuse;
      }
      String tool = command.get(0).replace("-restore", "");
      List<String> lines = tables.get(tool);
      if (command.get(0).endsWith("-restore")) {
        assertThat(command).containsExactly(command.get(0), "-w", "--noflush");
        restores.add(stdin);
        for (String l : stdin.split("\n")) {
          if (l.startsWith(":")) {
            String chain = l.substring(1, l.indexOf(' '));
            lines.removeIf(x -> x.startsWith("-A " + chain + " "));
            if (!lines.contains("-N " + chain)) {
              lines.add(2, "-N " + chain);
            }
          } else if (l.startsWith("-A ")) {
            lines.add(l);
          } else if (l.startsWith("-I ")) {
            String[] p = l.split(" ", 4);
            int first = 0;
            while (first < lines.size() && !lines.get(first).startsWith("-A " + p[1] + " ")) {
              first++;
            }
            lines.add(first, "-A " + p[1] + " " + p[3]);
          }
        }
        return new HostFirewall.Result(0, "");
      }
      assertThat(command).containsExactly(tool, "-w", "-S");
      return new HostFirewall.Result(0, String.join("\n", lines) + "\n");
    }
  }

  private static HostFirewall.Settings settings(Map<String, ?> section) {
    ProviderConfig c = ProviderConfig.of("environment.hostFirewall", section);
    HostFirewall.Settings s = HostFirewall.Settings.from(c);
    c.validate();
    return s;
  }

  @Test
  void theFirstEnsureWritesBothChainsAndTheirJumpsInOneTransactionAndTheNextReadsOnly() {
    FakeTables t = new FakeTables();
    HostFirewall f = new HostFirewall(settings(Map.of("allow", List.of("5432", "udp/53"))), "unix:///var/run/docker.sock",
        false, t);

    assertThat(f.ensure()).isTrue();
    assertThat(t.restores).containsExactly(String.join("\n",
        "*filter",
        ":PREVIEW-HOST - [0:0]",
        ":PREVIEW-EGRESS - [0:0]",
        "-A PREVIEW-HOST -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-A PREVIEW-HOST -p tcp -m tcp --dport 5432 -j RETURN",
        "-A PREVIEW-HOST -p udp -m udp --dport 53 -j RETURN",
        "-A PREVIEW-HOST -p tcp -j REJECT --reject-with tcp-reset",
        "-A PREVIEW-HOST -j REJECT --reject-with icmp-port-unreachable",
        "-A PREVIEW-EGRESS -o pv-+ -j RETURN",
        "-A PREVIEW-EGRESS -d 169.254.0.0/16 -p tcp -j REJECT --reject-with tcp-reset",
        "-A PREVIEW-EGRESS -d 169.254.0.0/16 -j REJECT --reject-with icmp-port-unreachable",
        "-I INPUT 1 -i pv-+ -j PREVIEW-HOST",
        "-I FORWARD 1 -i pv-+ -j PREVIEW-EGRESS",
        "COMMIT", ""));
    List<String> input = t.tables.get("iptables").stream().filter(l -> l.startsWith("-A INPUT ")).toList();
    assertThat(input).as("ours comes before the operator's own rules")
        .containsExactly("-A INPUT -i pv-+ -j PREVIEW-HOST", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT");
    assertThat(t.commands).doesNotContain("ip6tables -w -S").as("no IPv6 on this host");

    t.commands.clear();
    assertThat(f.ensure()).as("nothing to write the second time").isFalse();
    assertThat(t.commands).containsExactly("iptables -w -S");
    assertThat(t.restores).hasSize(1);
  }

  @Test
  void aFlushedFirewallOrAChangedChainIsWrittenAgainWithoutDuplicatingTheJumps() {
    FakeTables t = new FakeTables();
    new HostFirewall(settings(Map.of()), "unix:///var/run/docker.sock", false, t).ensure();

    // a firewall reload dropped our chain's rules, the jumps stay
    t.tables.get("iptables").removeIf(l -> l.startsWith("-A PREVIEW-HOST "));
    HostFirewall other = new HostFirewall(settings(Map.of("allow", List.of("8000-8100"))), "unix:///var/run/docker.sock",
        false, t);
    assertThat(other.ensure()).isTrue();
    assertThat(t.restores.get(1)).contains("-A PREVIEW-HOST -p tcp -m tcp --dport 8000:8100 -j RETURN")
        .doesNotContain("-I INPUT").doesNotContain("-I FORWARD");
    assertThat(t.tables.get("iptables")).filteredOn(l -> l.contains("-j PREVIEW-")).hasSize(2);
    assertThat(t.tables.get("iptables")).filteredOn(l -> l.startsWith("-A PREVIEW-HOST ")).hasSize(4);
  }

  /** iptables -S prints PREVIEW-EGRESS before PREVIEW-HOST: rules already in place are not written again by a new process. */
  @Test
  void rulesInPlaceInAnotherChainOrderAreNotWrittenAgain() {
    FakeTables t = new FakeTables();
    new HostFirewall(settings(Map.of()), "unix:///var/run/docker.sock", false, t).ensure();
    List<String> lines = t.tables.get("iptables");
    List<String> host = lines.stream().filter(l -> l.startsWith("-A PREVIEW-HOST ")).toList();
    lines.removeAll(host);
    lines.addAll(host); // now after PREVIEW-EGRESS, as iptables prints them

    assertThat(new HostFirewall(settings(Map.of()), "unix:///var/run/docker.sock", false, t).ensure())
        .as("a new process finds them in place").isFalse();
    assertThat(t.restores).hasSize(1);
  }

  @Test
  void withIpv6BothFamiliesGetTheirRules() {
    FakeTables t = new FakeTables();
    new HostFirewall(settings(Map.of()), "unix:///var/run/docker.sock", true, t).ensure();

    assertThat(t.tables.get("ip6tables")).contains(
        "-A INPUT -i pv-+ -j PREVIEW-HOST",
        "-A PREVIEW-HOST -j REJECT --reject-with icmp6-port-unreachable",
        "-A PREVIEW-EGRESS -d fd00:ec2::254/128 -p tcp -j REJECT --reject-with tcp-reset")
        .noneMatch(l -> l.contains("169.254"));
    assertThat(t.tables.get("iptables")).noneMatch(l -> l.contains("fd00:"));
  }

  @Test
  void whenTheFirewallCannotBeSetAutoWarnsAndRequiredRefusesNamingTheRules() {
    FakeTables t = new FakeTables();
    t.refuse = new HostFirewall.Result(4,
        "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n");

    assertThat(new HostFirewall(settings(Map.of()), "unix:///var/run/docker.sock", false, t).ensure()).isFalse();
    assertThat(t.restores).isEmpty();

    HostFirewall required = new HostFirewall(settings(Map.of("mode", "required")), "unix:///var/run/docker.sock", false, t);
    assertThatThrownBy(required::ensure).isInstanceOf(ProviderException.class)
        .hasMessageContaining("environment.hostFirewall.mode is required")
        .hasMessageContaining("Permission denied (you must be root)")
        .hasMessageContaining("iptables -I INPUT 1 -i pv-+ -j PREVIEW-HOST")
        .hasMessageContaining("iptables -A PREVIEW-EGRESS -d 169.254.0.0/16")
        .hasMessageContaining("set environment.hostFirewall.mode: off")
        .satisfies(e -> assertThat(((ProviderException) e).retryable()).isFalse());
  }

  @Test
  void aRemoteEngineIsNeverFirewalledFromHereAndRequiredSaysWhy() {
    FakeTables t = new FakeTables();
    assertThat(new HostFirewall(settings(Map.of()), "tcp://build-host:2376", false, t).ensure()).isFalse();
    assertThatThrownBy(() -> new HostFirewall(settings(Map.of("mode", "required")), "tcp://build-host:2376", false, t)
        .ensure()).isInstanceOf(ProviderException.class)
        .hasMessageContaining("the Docker engine at tcp://build-host:2376 is not on this machine");
    assertThat(new HostFirewall(settings(Map.of("mode", "off")), "unix:///var/run/docker.sock", false, t).ensure()).isFalse();
    assertThat(t.commands).as("a remote engine and mode off run nothing").isEmpty();
  }

  @Test
  void onlyASocketOrTcpToANumericLoopbackIsThisMachine() {
    assertThat(HostFirewall.local("unix:///var/run/docker.sock")).isTrue();
    assertThat(HostFirewall.local("tcp://127.0.0.1:2375")).isTrue();
    assertThat(HostFirewall.local("tcp://localhost:2375")).isTrue();
    assertThat(HostFirewall.local("tcp://[::1]:2375")).isTrue();
    assertThat(HostFirewall.local("tcp://127.attacker.example:2375")).isFalse();
    assertThat(HostFirewall.local("tcp://10.0.0.5:2376")).isFalse();
    assertThat(HostFirewall.local("npipe:////./pipe/docker_engine")).isFalse();
  }

  @Test
  void badPortsAndNetworksAreReportedAllAtOnce() {
    ProviderConfig c = ProviderConfig.of("environment.hostFirewall", Map.of("mode", "sometimes",
        "allow", List.of("5432", "99999", "tcp/", "sctp/9", "9000-8000"),
        "denyEgress", List.of("10.0.0.0/8", "10.0.0.0/33", "metadata.internal", "256.1.1.1", "fd00::/129", "fd00::/64")));
    HostFirewall.Settings.from(c);
    assertThatThrownBy(c::validate).isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.hostFirewall.mode").hasMessageContaining("sometimes")
        .hasMessageContaining("allow[1]").hasMessageContaining("\"99999\"")
        .hasMessageContaining("allow[2]").hasMessageContaining("allow[3]").hasMessageContaining("allow[4]")
        .hasMessageContaining("denyEgress[1]").hasMessageContaining("denyEgress[2]")
        .hasMessageContaining("denyEgress[3]").hasMessageContaining("denyEgress[4]")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("allow[0]", "denyEgress[0]", "denyEgress[5]"));
  }

  @Test
  void anEmptyDenyEgressListDeniesNothingButTheHost() {
    HostFirewall f = new HostFirewall(settings(Map.of("denyEgress", List.of())), "unix:///var/run/docker.sock", false,
        new FakeTables());
    assertThat(f.rules(false)).filteredOn(l -> l.startsWith("-A PREVIEW-EGRESS")).containsExactly(
        "-A PREVIEW-EGRESS -o pv-+ -j RETURN");
    assertThat(f.rules(false)).filteredOn(l -> l.startsWith("-A PREVIEW-HOST")).hasSize(3);
  }
}
