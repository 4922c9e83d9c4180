package dev.preview.server;

import dev.preview.testkit.Servers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven by Selenium through Debian's chromedriver (installed by
 * {@code .ci/servers/chromium.sh}; no browser is downloaded). A test that finds either missing fails in
 * CI and is skipped locally, like every integration test.
 */
public final class HeadlessChromium implements AutoCloseable {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private final ChromeDriver driver;

  private HeadlessChromium(ChromeDriver driver) {
    this.driver = driver;
  }

  /** Starts a fresh headless browser (its own profile: no cookies shared between tests). */
  public static HeadlessChromium start() {
    Servers.require("Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER + ")",
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER), "bash .ci/servers/chromium.sh");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1280,900", "--no-first-run", "--disable-extensions");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    return new HeadlessChromium(driver);
  }

  public ChromeDriver driver() {
    return driver;
  }

  /** Saves a screenshot of the current page as a test artifact, e.g. {@code target/screenshots/list.png}. */
  public Path screenshot(String name) throws java.io.IOException {
    Path file = Path.of("target", "screenshots", name + ".png");
    Files.createDirectories(file.getParent());
    Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    return file;
  }

  @Override
  public void close() {
    driver.quit();
  }
}
