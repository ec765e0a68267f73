// swift-tools-version: 6.2
import PackageDescription

/// Strict settings shared by every Swift target (Swift 6 mode is the tools default).
let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Actors", targets: ["Actors"]),
        .library(name: "Grid", targets: ["Grid"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Cluster", targets: ["Cluster"]),
        .library(name: "GridServer", targets: ["GridServer"]),
        .library(name: "GridWorkloads", targets: ["GridWorkloads"]),
        .executable(name: "tessera", targets: ["tessera"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHwloc",
            path: "Sources/CHwloc",
            pkgConfig: "hwloc",
            providers: [.apt(["libhwloc-dev"])]
        ),
        // GDAL's headers only (included as <gdal/…>, no pkg-config, so nothing links libgdal): CGDALLoader
        // defines the functions and loads the library on first use.
        .systemLibrary(
            name: "CGDAL",
            path: "Sources/CGDAL",
            providers: [.apt(["libgdal-dev"])]
        ),
        .target(
            name: "CGDALLoader",
            dependencies: ["CGDAL"],
            path: "Sources/CGDALLoader"
        ),
        .target(
            name: "CShims",
            path: "Sources/CShims"
        ),
        .target(
            name: "Actors",
            dependencies: [
                "CHwloc",
                "CShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "Cluster",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "Grid",
            dependencies: [
                "Actors",
                "Cluster",
                "CShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "Imaging",
            dependencies: [
                "Actors",
                "Grid",
                "CGDAL",
                "CGDALLoader",
                "CShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [.copy("Workflows/ORTHO_S1_GRD.yaml"), .copy("Workflows/RICE_MAP.yaml")],
            swiftSettings: strictSwift
        ),
        // The built-in functions every process registers and the benchmarks' workloads (tessera, its agents and
        // Benchmarks/ use them).
        .target(
            name: "GridWorkloads",
            dependencies: ["Actors", "Grid", "Imaging"],
            swiftSettings: strictSwift
        ),
        // The server side of `tessera serve`: REST routes and views, users, OpenAPI, metrics, event streams,
        // connection limits and the portal (its files embedded in the binary).
        .target(
            name: "GridServer",
            dependencies: [
                "Grid",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [
                .embedInCode("Portal/index.html"), .embedInCode("Portal/app.css"), .embedInCode("Portal/app.js"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "tessera",
            dependencies: [
                "Actors",
                "Grid",
                "GridServer",
                "GridWorkloads",
                "Imaging",
                "Cluster",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        // Helpers shared by the test targets (finding and running the built `tessera`).
        .target(
            name: "TesseraTestSupport",
            path: "Tests/TesseraTestSupport",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ActorsTests",
            dependencies: [
                "Actors",
                "CShims",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "GridTests",
            dependencies: [
                "TesseraTestSupport",
                "Grid",
                "GridServer",
                "GridWorkloads",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                "Cluster",
                "Actors",
                "CShims",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ClusterTests",
            dependencies: [
                "TesseraTestSupport",
                "Cluster",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImagingTests",
            dependencies: [
                "Imaging",
                "CGDAL",
                "Actors",
                "Grid",
            ],
            swiftSettings: strictSwift
        ),
    ]
)
