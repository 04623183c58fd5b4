package newsfacet.opensearch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch node for tests, run from Maven Central jars instead of a
 * distribution: the modules a distribution would load from its modules/
 * folder are given to {@link Node} as classpath plugins instead (as
 * OpenSearch's own MockNode does).
 *
 * <p>Usage: {@code TestNode [-p PIDFILE] -Ekey=value ...}; {@code path.home}
 * is required. Settings are prepared like the distribution's {@code -E}
 * options. The node is not run under the bootstrap (no security manager, no
 * bootstrap checks: it is meant for 127.0.0.1). SIGTERM closes it cleanly.
 */
public final class TestNode extends Node {

    static final List<Class<? extends Plugin>> PLUGINS = List.of(
        Netty4Plugin.class, // HTTP and transport
        PainlessPlugin.class, // extended by analysis-common
        CommonAnalysisPlugin.class // english, asciifolding, shingle, stemmer...
    );

    /** Console logging only: the launcher's caller sends stdout to the node's log file. */
    static final String LOG4J2_PROPERTIES = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        "");

    TestNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(environment, plugins, true);
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> properties = new LinkedHashMap<>();
        Path pidFile = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-p") && i + 1 < args.length) {
                pidFile = Paths.get(args[++i]);
            } else if (arg.startsWith("-E") && arg.indexOf('=') > 2) {
                int eq = arg.indexOf('=');
                properties.put(arg.substring(2, eq), arg.substring(eq + 1));
            } else {
                System.err.println("usage: TestNode [-p PIDFILE] -Ekey=value ... (bad argument: " + arg + ")");
                System.exit(64);
            }
        }
        if (!properties.containsKey("path.home")) {
            System.err.println("TestNode: -Epath.home=... is required");
            System.exit(64);
        }
        Path home = Paths.get(properties.get("path.home")).toAbsolutePath();
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("modules"));
        Files.writeString(config.resolve("log4j2.properties"), LOG4J2_PROPERTIES, StandardCharsets.UTF_8);

        // Defaults a test node wants; any -E option overrides them.
        Settings defaults = Settings.builder()
            .put("network.host", "127.0.0.1")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("bootstrap.memory_lock", false)
            .build();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(defaults, properties, config, () -> "test-node");
        if (Node.NODE_NAME_SETTING.exists(environment.settings())) {
            LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(environment.settings()));
        }
        LogConfigurator.configure(environment);

        long pid = ProcessHandle.current().pid();
        if (pidFile != null) {
            Files.writeString(pidFile, pid + "\n", StandardCharsets.UTF_8);
        }

        TestNode node = new TestNode(environment, PLUGINS);
        CountDownLatch closed = new CountDownLatch(1);
        Thread closer = new Thread(() -> {
            try {
                node.close();
                if (!node.awaitClose(20, TimeUnit.SECONDS)) {
                    System.err.println("TestNode: node did not close within 20 s");
                }
            } catch (IOException | InterruptedException e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
                org.apache.logging.log4j.LogManager.shutdown();
            }
        }, "test-node-shutdown");
        Runtime.getRuntime().addShutdownHook(closer);
        try {
            node.start();
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(70); // runs the hook, which closes what started
        }
        System.out.println("TestNode started: pid " + pid + " node " + Node.NODE_NAME_SETTING.get(environment.settings()));
        System.out.flush();
        // Node threads may all be daemons: keep the JVM alive until the hook has closed the node.
        closed.await();
    }
}
