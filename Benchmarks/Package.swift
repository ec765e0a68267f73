// swift-tools-version: 6.2
import PackageDescription

// A package of its own so that `tools/test` and CI never build the benchmark harness.
// Run with: cd Benchmarks && swift package benchmark
let package = Package(
    name: "TesseraBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // The runtime interposer trait pulls a package this machine's mirror lacks; keep malloc counts only.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ExecutorBenchmarks",
            dependencies: [
                .product(name: "Actors", package: "main"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ExecutorBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ClusterBenchmarks",
            dependencies: [
                .product(name: "Cluster", package: "main"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ClusterBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "GridBenchmarks",
            dependencies: [
                .product(name: "Grid", package: "main"),
                .product(name: "GridWorkloads", package: "main"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/GridBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
