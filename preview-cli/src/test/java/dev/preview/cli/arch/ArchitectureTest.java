package dev.preview.cli.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaMember;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rules that keep the house simple (design.md, section 1), checked on the compiled classes of
 * every module (tests excluded): no package cycles; the core never depends on a provider, the CLI,
 * the server or the examples; providers never depend on each other; and no vendor type (docker-java,
 * Fabric8, AWS SDK, OkHttp, Retrofit) appears in a public signature outside the module that wraps it.
 */
class ArchitectureTest {
  /** Module package roots that hold providers; none may depend on another. */
  static final List<String> PROVIDERS = List.of(
      "dev.preview.docker..", "dev.preview.k8s..", "dev.preview.dns..", "dev.preview.db..", "dev.preview.scm..");
  static final List<String> PRODUCT = List.of("dev.preview.cli..", "dev.preview.server..", "dev.preview.examples..");

  /** Vendor package -> the package roots of the modules that wrap it: only their public signatures may show its types. */
  static final Map<String, List<String>> VENDORS = Map.of(
      "com.github.dockerjava.", List.of("dev.preview.docker"),
      "io.fabric8.", List.of("dev.preview.k8s"),
      "software.amazon.awssdk.", List.of("dev.preview.dns.route53"),
      "okhttp3.", List.of("dev.preview.scm", "dev.preview.dns.cloudflare"),
      "retrofit2.", List.of("dev.preview.dns.cloudflare"));

  /** One class of each module, to find where the module's classes are. */
  static final List<Class<?>> MODULE_ANCHORS = List.of(
      dev.preview.spi.EnvironmentProvider.class,
      dev.preview.testkit.EnvironmentProviderKit.class,
      dev.preview.docker.DockerEnvironmentProvider.class,
      dev.preview.k8s.KubernetesEnvironmentProvider.class,
      dev.preview.dns.rfc2136.Rfc2136DnsProvider.class,
      dev.preview.db.postgres.PostgresDatabaseProvider.class,
      dev.preview.scm.github.GitHubNotifier.class,
      dev.preview.examples.demo.PreviewDemo.class);

  static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    // Only our modules' own class directories or jars: scanning the whole classpath (Fabric8, AWS...) takes minutes.
    Set<Location> modules = new LinkedHashSet<>();
    for (Class<?> anchor : MODULE_ANCHORS) {
      modules.add(Location.of(anchor.getProtectionDomain().getCodeSource().getLocation()));
    }
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importLocations(modules);
  }

  @Test
  void every_module_is_on_the_classpath_so_the_rules_see_it() {
    classes().should(haveClassesIn(Set.of("dev.preview.spi", "dev.preview.core", "dev.preview.docker",
        "dev.preview.k8s", "dev.preview.dns.rfc2136", "dev.preview.db.postgres", "dev.preview.scm.github")))
        .check(classes);
  }

  @Test
  void the_rules_can_fail_a_rule_every_class_breaks_is_reported() {
    // Guards against a rule set that passes because nothing was imported or nothing is checked.
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
            noClasses().that().resideInAPackage("dev.preview.spi..").should().dependOnClassesThat()
                .resideInAPackage("java.lang..").check(classes))
        .isInstanceOf(AssertionError.class).hasMessageContaining("dev.preview.spi");
  }

  @Test
  void no_package_cycles() {
    slices().matching("dev.preview.(**)").should().beFreeOfCycles().check(classes);
  }

  @Test
  void the_core_never_depends_on_providers_the_product_or_the_testkit() {
    List<String> forbidden = new ArrayList<>(PROVIDERS);
    forbidden.addAll(PRODUCT);
    forbidden.add("dev.preview.testkit..");
    noClasses().that().resideInAnyPackage("dev.preview.core..", "dev.preview.spi..")
        .should().dependOnClassesThat().resideInAnyPackage(forbidden.toArray(String[]::new))
        .check(classes);
  }

  @Test
  void the_spi_depends_on_nothing_but_the_jdk_guava_jackson_and_itself() {
    classes().that().resideInAPackage("dev.preview.spi..")
        .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "javax..", "dev.preview.spi..",
            "com.google.common..", "com.fasterxml.jackson..", "org.jspecify..", "org.slf4j..")
        .check(classes);
  }

  @Test
  void providers_never_depend_on_each_other_or_on_the_product() {
    for (String provider : PROVIDERS) {
      List<String> others = new ArrayList<>(PROVIDERS);
      others.remove(provider);
      others.addAll(PRODUCT);
      noClasses().that().resideInAPackage(provider)
          .should().dependOnClassesThat().resideInAnyPackage(others.toArray(String[]::new))
          .check(classes);
    }
  }

  @Test
  void the_backends_inside_one_module_never_depend_on_each_other() {
    for (List<String> backends : List.of(
        List.of("dev.preview.dns.cloudflare..", "dev.preview.dns.route53..", "dev.preview.dns.rfc2136..", "dev.preview.dns.none.."),
        List.of("dev.preview.db.postgres..", "dev.preview.db.mysql..", "dev.preview.db.redis..", "dev.preview.db.sqlite.."),
        List.of("dev.preview.scm.github..", "dev.preview.scm.gitlab.."))) {
      for (String backend : backends) {
        List<String> others = new ArrayList<>(backends);
        others.remove(backend);
        noClasses().that().resideInAPackage(backend)
            .should().dependOnClassesThat().resideInAnyPackage(others.toArray(String[]::new))
            .check(classes);
      }
    }
  }

  @Test
  void no_vendor_type_in_a_public_signature_outside_its_module() {
    classes().that().arePublic().should(exposeNoForeignVendorTypes()).check(classes);
  }

  private static ArchCondition<JavaClass> haveClassesIn(Set<String> packages) {
    return new ArchCondition<>("cover the packages " + packages) {
      final Set<String> seen = new java.util.HashSet<>();

      @Override
      public void check(JavaClass c, ConditionEvents events) {
        seen.add(c.getPackageName());
      }

      @Override
      public void finish(ConditionEvents events) {
        for (String p : packages) {
          if (!seen.contains(p)) {
            events.add(SimpleConditionEvent.violated(p, "no class of " + p + " was imported: add its module to this test's classpath"));
          }
        }
      }
    };
  }

  private static ArchCondition<JavaClass> exposeNoForeignVendorTypes() {
    return new ArchCondition<>("expose no vendor type outside the module that wraps it") {
      @Override
      public void check(JavaClass c, ConditionEvents events) {
        for (JavaMember m : c.getMembers()) {
          if (!m.getModifiers().contains(JavaModifier.PUBLIC) && !m.getModifiers().contains(JavaModifier.PROTECTED)) {
            continue;
          }
          List<JavaType> types = new ArrayList<>();
          if (m instanceof JavaField f) {
            types.add(f.getType());
          } else if (m instanceof JavaCodeUnit u) {
            types.add(u.getReturnType());
            types.addAll(u.getParameterTypes());
          }
          for (JavaType t : types) {
            for (JavaClass used : t.getAllInvolvedRawTypes()) {
              List<String> vendorHome = homeOf(used.getName());
              if (vendorHome != null && vendorHome.stream().noneMatch(h -> c.getPackageName().startsWith(h))) {
                events.add(SimpleConditionEvent.violated(m, m.getFullName() + " shows the vendor type " + used.getName()
                    + " in its public signature; wrap it in our own type (only " + vendorHome + " may show it)"));
              }
            }
          }
        }
      }
    };
  }

  private static List<String> homeOf(String typeName) {
    for (Map.Entry<String, List<String>> e : VENDORS.entrySet()) {
      if (typeName.startsWith(e.getKey())) {
        return e.getValue();
      }
    }
    return null;
  }
}
