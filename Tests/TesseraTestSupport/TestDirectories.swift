import Foundation
import Synchronization

/// Scratch directories for tests: each test gets a fresh one, and the test process removes them all when it
/// exits, so that running the suite again and again leaves nothing in the temporary directory. Set
/// `TESSERA_KEEP_TEST_DIRS=1` to keep them for a look after a failure.
public enum TestDirectories {
    private static let made = Mutex<[String]>([])
    /// Registers the removal once, with the first directory.
    private static let removalRegistered: Bool = {
        atexit { TestDirectories.removeAll() }
        return true
    }()

    /// Makes `<temporary directory>/tessera-<prefix>-<random>` and returns its path.
    public static func make(_ prefix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/tessera-\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        _ = removalRegistered
        made.withLock { $0.append(path) }
        return path
    }

    /// Removes every directory made so far (at exit), unless `TESSERA_KEEP_TEST_DIRS` is set.
    static func removeAll() {
        guard ProcessInfo.processInfo.environment["TESSERA_KEEP_TEST_DIRS"] == nil else { return }
        let paths = made.withLock { made in
            defer { made.removeAll() }
            return made
        }
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }
}
