package dev.amalgam.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The module and layer boundaries, checked on the main classes of amalgam-core, amalgam-eval,
 * amalgam-sweep and amalgam-cli: diagnostic, tensor, kernels, io, convert and merge are layered in
 * that order inside core (each may use only the ones below it), synthetic models sit beside merge,
 * eval sits beside merge on top of core, sweep sits on core and eval, and the command line is on
 * top of everything. No package depends on itself through others.
 */
@AnalyzeClasses(
    packages = "dev.amalgam",
    importOptions = {ImportOption.DoNotIncludeTests.class, ArchitectureTest.MainClassesOnly.class})
class ArchitectureTest {
  private static final String[] CORE = {
    "dev.amalgam.diagnostic..",
    "dev.amalgam.tensor..",
    "dev.amalgam.kernels..",
    "dev.amalgam.io..",
    "dev.amalgam.convert..",
    "dev.amalgam.merge..",
    "dev.amalgam.synthetic.."
  };

  @ArchTest
  static final ArchRule layers =
      layeredArchitecture()
          .consideringOnlyDependenciesInLayers()
          .layer("diagnostic")
          .definedBy("dev.amalgam.diagnostic..")
          .layer("tensor")
          .definedBy("dev.amalgam.tensor..")
          .layer("kernels")
          .definedBy("dev.amalgam.kernels..")
          .layer("io")
          .definedBy("dev.amalgam.io..")
          .layer("convert")
          .definedBy("dev.amalgam.convert..")
          .layer("merge")
          .definedBy("dev.amalgam.merge..")
          .layer("synthetic")
          .definedBy("dev.amalgam.synthetic..")
          .layer("eval")
          .definedBy("dev.amalgam.eval..")
          .layer("sweep")
          .definedBy("dev.amalgam.sweep..")
          .layer("cli")
          .definedBy("dev.amalgam.cli..")
          .whereLayer("cli")
          .mayNotBeAccessedByAnyLayer()
          .whereLayer("sweep")
          .mayOnlyBeAccessedByLayers("cli")
          .whereLayer("eval")
          .mayOnlyBeAccessedByLayers("sweep", "cli")
          .whereLayer("synthetic")
          .mayOnlyBeAccessedByLayers("cli")
          .whereLayer("merge")
          .mayOnlyBeAccessedByLayers("sweep", "cli")
          .whereLayer("convert")
          .mayOnlyBeAccessedByLayers("merge", "synthetic", "eval", "sweep", "cli")
          .whereLayer("io")
          .mayOnlyBeAccessedByLayers("convert", "merge", "synthetic", "eval", "sweep", "cli")
          .whereLayer("kernels")
          .mayOnlyBeAccessedByLayers("io", "convert", "merge", "synthetic", "eval", "sweep", "cli")
          .whereLayer("tensor")
          .mayOnlyBeAccessedByLayers(
              "kernels", "io", "convert", "merge", "synthetic", "eval", "sweep", "cli")
          .whereLayer("diagnostic")
          .mayOnlyBeAccessedByLayers(
              "tensor", "kernels", "io", "convert", "merge", "synthetic", "eval", "sweep", "cli");

  @ArchTest
  static final ArchRule noPackageCycles =
      slices().matching("dev.amalgam.(**)").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule coreUsesNoEvalOrCliClass =
      noClasses()
          .that()
          .resideInAnyPackage(CORE)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("dev.amalgam.eval..", "dev.amalgam.sweep..", "dev.amalgam.cli..");

  @ArchTest
  static final ArchRule evalUsesNoCliClass =
      noClasses()
          .that()
          .resideInAPackage("dev.amalgam.eval..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("dev.amalgam.cli..");

  @ArchTest
  static final ArchRule coreNeverEndsTheProcess =
      noClasses()
          .that()
          .resideInAnyPackage(CORE)
          .should()
          .callMethod(System.class, "exit", int.class)
          .orShould()
          .callMethod(Runtime.class, "halt", int.class)
          .because("a library leaves the process to the application that embeds it");

  /**
   * Leaves out the test-support jar of amalgam-core, which ImportOption.DoNotIncludeTests does not
   * know.
   */
  static final class MainClassesOnly implements ImportOption {
    @Override
    public boolean includes(Location location) {
      return !location.contains("-tests.jar") && !location.contains("/dev/amalgam/testing/");
    }
  }
}
