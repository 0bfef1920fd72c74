// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "aces",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aces", targets: ["aces"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", exact: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", exact: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
    ],
    targets: [
        // The protocol core: canonical encoding, hashing, signing, clocks, entries, ownership and
        // merge rules. No I/O.
        .target(
            name: "AcesCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ]
        ),
        // Pure file formats the directory speaks: CSV as spreadsheets save it, iCalendar, vCard.
        .target(
            name: "AcesFormats",
            dependencies: []
        ),
        // The replica: the only door to SQLite.
        .target(
            name: "AcesStore",
            dependencies: [
                "AcesCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A node's files: its data directory and `aces.toml`, the roster, certificates, log format.
        .target(
            name: "AcesNodeFiles",
            dependencies: [
                "AcesCore",
                "AcesStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        // The HTTP vocabulary shared by the federation's routes and the web site.
        .target(
            name: "AcesHTTP",
            dependencies: [
                "AcesCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Federation: the peer client, the sync loops, the federation's routes, TLS, and what a
        // node reports of its peers.
        .target(
            name: "AcesFederation",
            dependencies: [
                "AcesCore",
                "AcesStore",
                "AcesNodeFiles",
                "AcesHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        // The chapter admins' workflows, shared by the CLI and the admin API: edits, spreadsheet
        // imports, the write queue, restore.
        .target(
            name: "AcesWorkflows",
            dependencies: [
                "AcesCore",
                "AcesFormats",
                "AcesStore",
                "AcesNodeFiles",
                "AcesFederation",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The public listener: the directory's pages, calendar, feeds, sign-in and "my profile",
        // the JSON and admin APIs.
        .target(
            name: "AcesWeb",
            dependencies: [
                "AcesCore",
                "AcesFormats",
                "AcesStore",
                "AcesNodeFiles",
                "AcesHTTP",
                "AcesFederation",
                "AcesWorkflows",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The running node: assembles the listeners, the sync loops and the timers into one
        // service group, with health, metrics and logs.
        .target(
            name: "AcesServer",
            dependencies: [
                "AcesCore",
                "AcesStore",
                "AcesNodeFiles",
                "AcesHTTP",
                "AcesFederation",
                "AcesWorkflows",
                "AcesWeb",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The operators' commands. The executable only assembles them.
        .target(
            name: "AcesCLI",
            dependencies: [
                "AcesCore",
                "AcesFormats",
                "AcesStore",
                "AcesNodeFiles",
                "AcesFederation",
                "AcesWorkflows",
                "AcesServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Development tools no production target imports: the benchmark and its floors, the demo
        // and its sample data, federations of local nodes for the demo, the benchmark and tests.
        .target(
            name: "AcesDevTools",
            dependencies: [
                "AcesCore",
                "AcesFormats",
                "AcesStore",
                "AcesNodeFiles",
                "AcesWorkflows",
                "AcesServer",
                "AcesCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // `aces`: the operators' commands plus `demo` and `bench`.
        .executableTarget(
            name: "aces",
            dependencies: [
                "AcesCLI",
                "AcesDevTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixtures shared by the test targets: temporary folders, fixed clocks and keys.
        .target(
            name: "AcesTestSupport",
            dependencies: ["AcesCore", "AcesStore"],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "AcesCoreTests",
            dependencies: ["AcesCore", "AcesTestSupport"],
            // Golden files read by path from the tests, not resources of the test bundle.
            exclude: ["Vectors"]
        ),
        .testTarget(
            name: "AcesFormatsTests",
            dependencies: ["AcesCore", "AcesFormats", "AcesTestSupport"]
        ),
        .testTarget(
            name: "AcesStoreTests",
            dependencies: ["AcesCore", "AcesStore", "AcesTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "AcesNodeTests",
            dependencies: [
                "AcesCore", "AcesFormats", "AcesStore", "AcesNodeFiles", "AcesHTTP", "AcesFederation", "AcesWorkflows", "AcesWeb",
                "AcesServer", "AcesDevTools", "AcesTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .testTarget(
            name: "AcesCLITests",
            dependencies: [
                "AcesCore", "AcesFormats", "AcesStore", "AcesNodeFiles", "AcesHTTP", "AcesFederation", "AcesWorkflows", "AcesWeb",
                "AcesServer", "AcesDevTools", "AcesTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "X509", package: "swift-certificates"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
