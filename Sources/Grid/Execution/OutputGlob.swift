import Glibc

/// The files a task's `outputs` patterns match, found by a bounded walk instead of `glob(3)`.
///
/// `glob(3)` walks whatever a pattern reaches (`/*/*/*/*/*/*/*` is the whole file system, with no way to stop
/// it), follows symbolic links into any directory, and returns every match at once. This walk matches one path
/// component at a time with `fnmatch(3)`, never descends through a symbolic link, stops after
/// ``InputLimits/outputMatches`` matches or ``InputLimits/outputEntries`` directory entries read, and, when
/// confined, takes only patterns inside the task's working directory (relative, without `..`).
struct OutputGlob {
    /// Why a scan stopped short or refused a pattern.
    enum Problem: Error, Equatable, CustomStringConvertible {
        /// A confined task named a path outside its working directory.
        case outsideWorkingDirectory(String)
        /// More matches than the limit.
        case tooManyMatches(Int)
        /// More directory entries read than the limit.
        case tooManyEntries(Int)
        /// The task's walltime passed while its outputs were matched (the walk is charged to it).
        case walltimeExceeded

        var description: String {
            switch self {
            case .outsideWorkingDirectory(let pattern):
                "output `\(pattern.prefix(200))` is outside the task's working directory (outputs are relative paths without `..`)"
            case .tooManyMatches(let limit): "the outputs match more than \(limit) files (limit outputMatches)"
            case .tooManyEntries(let limit): "matching the outputs read more than \(limit) directory entries (limit outputEntries)"
            case .walltimeExceeded: "the task's walltime passed while its outputs were matched"
            }
        }
    }

    /// Whether patterns must stay inside the directory.
    let confined: Bool
    /// The most matches.
    let maximumMatches: Int
    /// The most directory entries read.
    let maximumEntries: Int
    /// The end of the task's walltime on its clock: the walk is charged to it, and stops once it passes.
    var deadline: (clock: any GridClock, at: Duration)?

    init(confined: Bool, limits: InputLimits) {
        self.confined = confined
        self.maximumMatches = limits.outputMatches
        self.maximumEntries = limits.outputEntries
    }

    /// This walk, charged to a walltime that ends at `at` on `clock` (none: unchanged).
    func charged(until at: Duration?, on clock: any GridClock) -> OutputGlob {
        var glob = self
        glob.deadline = at.map { (clock, $0) }
        return glob
    }

    /// Absolute patterns allowed (a single-user grid), with the default bounds.
    static let unconfined = OutputGlob(confined: false, limits: .default)

    /// Why `pattern` may not be an output of a confined task, or `nil` when it may.
    static func confinementFlaw(_ pattern: String) -> String? {
        if pattern.hasPrefix("/") { return "is an absolute path" }
        if pattern.split(separator: "/").contains("..") { return "goes up with `..`" }
        return nil
    }

    /// The paths (absolute, sorted) the patterns match in `directory`.
    ///
    /// - Throws: ``Problem`` when a pattern leaves a confined directory or a bound is reached.
    func matches(_ patterns: [String], in directory: String) throws(Problem) -> [String] {
        var found: Set<String> = []
        var entries = 0
        for pattern in patterns {
            if confined, Self.confinementFlaw(pattern) != nil { throw .outsideWorkingDirectory(pattern) }
            let absolute = pattern.hasPrefix("/")
            let components = pattern.split(separator: "/").map(String.init)
            var frontier = [absolute ? "" : directory]
            for (position, component) in components.enumerated() {
                let last = position == components.count - 1
                var next: [String] = []
                for base in frontier {
                    if !Self.isPattern(component) {
                        let path = base + "/" + component
                        var info = stat()
                        // Unconfined, a literal component may be a link (an output directory under /data -> /srv);
                        // confined, no link is entered, so no pattern reaches outside the working directory.
                        guard (confined ? lstat(path, &info) : stat(path, &info)) == 0 else { continue }
                        // Only the last component may be a link (it is stamped, never entered).
                        if last || (info.st_mode & S_IFMT) == S_IFDIR { next.append(path) }
                        continue
                    }
                    guard let stream = opendir(base.isEmpty ? "/" : base) else { continue }
                    defer { closedir(stream) }
                    while let entry = readdir(stream) {
                        entries += 1
                        guard entries <= maximumEntries else { throw .tooManyEntries(maximumEntries) }
                        if entries & 1023 == 1, let deadline, deadline.clock.now >= deadline.at { throw .walltimeExceeded }
                        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                        }
                        guard name != ".", name != "..", fnmatch(component, name, FNM_PERIOD) == 0 else { continue }
                        let path = base + "/" + name
                        if last {
                            next.append(path)
                        } else {
                            var info = stat()
                            if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { next.append(path) }
                        }
                    }
                }
                frontier = next
                if frontier.isEmpty { break }
            }
            for path in frontier where !path.isEmpty {
                found.insert(path)
                guard found.count <= maximumMatches else { throw .tooManyMatches(maximumMatches) }
            }
        }
        return found.sorted()
    }

    /// Whether a path component holds glob characters.
    static func isPattern(_ component: String) -> Bool {
        component.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }
}
