import CShims
import Metrics
import MetricsTestKit
import Synchronization
import Testing

@testable import Actors

@Suite(.timeLimit(.minutes(1))) struct WorkerPoolTests {
    @Test func binding_eachWorkerReportsTheCoresOfItsSlot() async throws {
        let machine = try MachineTopology.load()
        let plan = try PlacementPlan.make(for: machine.topology)
        try await withPool(plan) { pool in
            for (worker, binding) in pool.bindings.enumerated() {
                #expect(binding == .bound(plan.slots[worker].processingUnits))
            }
            // Ask each worker from inside a job: sched_getaffinity on the worker thread itself.
            let reports = Mutex<[Int: [Int]]>([:])
            for node in plan.numaNodesInUse {
                let executor = try #require(pool.executor(forNUMANode: node))
                try await executor.parallelFor(0..<(plan.workerCount * 64), grain: 1) { _ in
                    if let worker = pool.currentWorker {
                        reports.withLock { $0[worker] = ThreadAffinity.current() }
                    }
                }
            }
            for (worker, affinity) in reports.withLock({ $0 }) {
                #expect(affinity == plan.slots[worker].processingUnits)
            }
            #expect(!reports.withLock({ $0 }).isEmpty)
        }
    }

    @Test func binding_syntheticPlanIsOnlyAPlan_andCanBeDisabled() async throws {
        try await withPool(syntheticPlan("package:1 core:2 pu:1")) { pool in
            #expect(pool.bindings == [.planOnly(missing: [0]), .planOnly(missing: [1])])
        }
        var settings = Settings()
        settings.bindThreads = false
        let machine = try MachineTopology.load()
        try await withPool(PlacementPlan.make(for: machine.topology, request: .init(workers: 1)), settings: settings) { pool in
            #expect(pool.bindings == [.disabled])
        }
    }

    @Test func oneMillionClosures_allRunOnce_withCheckedSum() async throws {
        let count = 1_000_000
        let pool = try await withPool(syntheticPlan("package:1 core:2 pu:1")) { pool in
            let sum = Atomic<Int>(0)
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let countdown = Countdown(count, continuation)
                var start = 0
                while start < count {
                    let end = min(start + 10_000, count)
                    let batch = (start..<end).map { value in
                        PoolJob { sum.wrappingAdd(value, ordering: .relaxed); countdown.tick() }
                    }
                    try? pool.executor.execute(batch: batch)
                    start = end
                }
            }
            #expect(sum.load(ordering: .relaxed) == count * (count - 1) / 2)
            return pool
        }
        // A worker counts a job after running it: read the counters once the threads are joined.
        let jobs = pool.statistics().reduce(0) { $0 + $1.jobs }
        #expect(jobs >= count)
    }

    @Test func childTasks_inheritThePinnedExecutor() async throws {
        try await withPool(syntheticPlan("package:1 core:2 pu:1")) { pool in
            let onPool = try await Task(executorPreference: pool.executor) {
                try await (0..<2_000).concurrentMap(window: 64) { _ in pool.currentWorker != nil }
            }.value
            #expect(onPool.count == 2_000 && onPool.allSatisfy { $0 })
            let asyncLet = await Task(executorPreference: pool.executor) {
                async let child = pool.currentWorker
                return await child
            }.value
            #expect(asyncLet != nil)
            let escaped = await Task(executorPreference: pool.executor) {
                await Task.detached { pool.currentWorker }.value
            }.value
            #expect(escaped == nil, "Task.detached escapes to the global executor")
        }
    }

    @Test func nestedSubmission_doesNotDeadlock_evenOnOneWorker() async throws {
        try await withPool(syntheticPlan("package:1 core:1 pu:1")) { pool in
            // A job that queues a job that queues a job, 1,000 deep, on a single worker.
            let depth = 1_000
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                @Sendable func step(_ remaining: Int) {
                    if remaining == 0 { continuation.resume(); return }
                    try? pool.executor.execute { step(remaining - 1) }
                }
                step(depth)
            }
            // A task on the only worker awaiting its own children and a parallel loop.
            let total = try await Task(executorPreference: pool.executor) {
                let partial = Atomic<Int>(0)
                try await pool.executor.parallelFor(0..<10_000, grain: 100) { range in
                    partial.wrappingAdd(range.count, ordering: .relaxed)
                }
                let doubled = try await (0..<100).concurrentMap(window: 8) { $0 * 2 }
                return partial.load(ordering: .relaxed) + doubled.reduce(0, +)
            }.value
            #expect(total == 10_000 + 9_900)
        }
    }

    @Test func shutdown_joinsEveryThread_andRefusesNewClosures() async throws {
        let pool = try WorkerPool(plan: syntheticPlan("package:1 core:3 pu:1"), name: "joined")
        let tids = Mutex<Set<Int64>>([])
        try await pool.executor.parallelFor(0..<3_000, grain: 1) { _ in
            _ = tids.withLock { $0.insert(tessera_gettid()) }
        }
        let seen = tids.withLock { $0 }
        #expect(!seen.isEmpty)
        #expect(seen.allSatisfy(threadExists))
        try pool.shutdown()
        #expect(seen.allSatisfy { !threadExists($0) }, "worker threads still alive after shutdown")
        #expect(throws: ExecutorError.shutDown(pool: "joined")) { try pool.executor.execute {} }
        try pool.shutdown()  // idempotent
    }

    @Test func shutdown_drainsQueuedWork() async throws {
        let pool = try WorkerPool(plan: syntheticPlan("package:1 core:2 pu:1"))
        let ran = Atomic<Int>(0)
        try pool.executor.execute(batch: Array(repeating: PoolJob { ran.wrappingAdd(1, ordering: .relaxed) }, count: 50_000))
        try pool.shutdown()
        #expect(ran.load(ordering: .relaxed) == 50_000)
    }

    @Test func shutdown_fromAWorker_isATypedError() async throws {
        try await withPool(syntheticPlan("package:1 core:1 pu:1"), name: "self") { pool in
            let result = Mutex<ExecutorError?>(nil)
            try await pool.executor.parallelFor(0..<1, grain: 1) { _ in
                do throws(ExecutorError) { try pool.shutdown() } catch { result.withLock { $0 = error } }
            }
            #expect(result.withLock { $0 } == .shutdownFromWorker(pool: "self"))
        }
    }

    @Test func stealing_workQueuedOnOneWorker_reachesEveryWorker() async throws {
        // Four NUMA nodes of one core each: each NUMA executor is exactly one worker.
        let plan = try syntheticPlan("package:1 numa:4 core:1 pu:1")
        try await withPool(plan) { pool in
            let ranBy = Mutex<[Int: Int]>([:])
            let started = Atomic<Int>(0)
            let seedWorker = Atomic<Int>(-1)
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let countdown = Countdown(4_000, continuation)
                let seed = pool.executor(forNUMANode: 0)
                try? seed?.execute {
                    // On one worker (0, or one that stole this seed first): queue every job on this
                    // worker's own queue, then keep it busy until the three others have started a job.
                    let holder = pool.currentWorker ?? -1
                    seedWorker.store(holder, ordering: .relaxed)
                    for _ in 0..<4_000 {
                        try? pool.executor.execute {
                            let worker = pool.currentWorker ?? -1
                            let first = ranBy.withLock { counts in
                                defer { counts[worker, default: 0] += 1 }
                                return counts[worker] == nil
                            }
                            if worker != holder {
                                if first { started.wrappingAdd(1, ordering: .relaxed) }
                                // Hold this thief too, so no single thief can drain the queues alone.
                                _ = spin(until: { started.load(ordering: .relaxed) == 3 }, "a worker never stole")
                            }
                            countdown.tick()
                        }
                    }
                    _ = spin(until: { started.load(ordering: .relaxed) == 3 }, "the other workers never stole")
                }
            }
            let holder = seedWorker.load(ordering: .relaxed)
            let counts = ranBy.withLock { $0 }
            let thieves = Set(0..<4).subtracting([holder])
            #expect(thieves.count == 3)
            #expect(Set(counts.keys).isSuperset(of: thieves), "every other worker ran some of the work: \(counts)")
            #expect(counts.values.reduce(0, +) == 4_000)
            #expect(pool.statistics().filter { thieves.contains($0.worker) }.allSatisfy { $0.steals > 0 })
        }
    }

    @Test func stealOrder_prefersTheSameNUMANode() throws {
        let plan = try syntheticPlan("package:1 numa:2 core:3 pu:1", strategy: .compact)
        let pool = StealingPool(plan: plan, name: "order", settings: .init())
        #expect(pool.workers[0].stealOrder == [1, 2, 3, 4, 5])
        #expect(pool.workers[1].stealOrder == [2, 0, 3, 4, 5])
        #expect(pool.workers[4].stealOrder == [5, 3, 0, 1, 2])
    }

    @Test func numaExecutor_queuesOutsideWorkRoundRobinOnItsOwnNode() throws {
        let plan = try syntheticPlan("package:1 numa:2 core:2 pu:1", strategy: .spread)
        // An engine whose threads are not started, so the queues can be inspected as they are.
        let engine = StealingPool(plan: plan, name: "queues", settings: .init())
        let node1 = PinnedExecutor(pool: engine, name: "queues/numa1", workers: plan.workers(onNUMANode: 1))
        #expect(node1.workers == [1, 3])
        for _ in 0..<6 { try node1.execute {} }
        #expect(engine.workers.map { $0.queue.withLock(\.count) } == [0, 3, 0, 3])
        engine.stopAccepting()
        #expect(throws: ExecutorError.shutDown(pool: "queues")) { try node1.execute {} }
    }

    @Test func steal_takesTheOldestHalf_cappedByMaxStealBatch() throws {
        var settings = Settings()
        settings.maxStealBatch = 10
        let plan = try syntheticPlan("package:1 core:2 pu:1")
        let engine = StealingPool(plan: plan, name: "steal", settings: settings)
        let order = Mutex<[Int]>([])
        engine.workers[0].queue.withLock { queue in
            for value in 0..<1_000 { queue.append(.closure(PoolJob { order.withLock { $0.append(value) } })) }
        }
        guard case .closure(let first)? = engine.steal(for: engine.workers[1]) else {
            Issue.record("nothing stolen")
            return
        }
        first.body()
        #expect(order.withLock { $0 } == [0], "the thief runs the oldest job first")
        #expect(engine.workers[1].queue.withLock(\.count) == 9)
        #expect(engine.workers[0].queue.withLock(\.count) == 990)

        settings.maxStealBatch = 256
        let small = StealingPool(plan: plan, name: "steal", settings: settings)
        small.workers[0].queue.withLock { queue in for _ in 0..<6 { queue.append(.closure(PoolJob {})) } }
        _ = small.steal(for: small.workers[1])
        #expect(small.workers[1].queue.withLock(\.count) == 2, "half of 6, one of them run at once")
    }

    @Test func metrics_countJobsStealsAndParks() async throws {
        let metrics = TestMetrics()
        let pool = try withMetricsFactory(metrics) {
            try WorkerPool(plan: syntheticPlan("package:1 core:2 pu:1"), name: "metered")
        }
        try await pool.executor.parallelFor(0..<10_000, grain: 1) { _ in }
        try pool.shutdown()
        let dimensions = [("pool", "metered")]
        let stats = pool.statistics()
        #expect(metrics.counterTotal(label: "actors.executor.jobs", dimensions: dimensions) == Int64(stats.reduce(0) { $0 + $1.jobs }))
        #expect(metrics.counterTotal(label: "actors.executor.steals", dimensions: dimensions) == Int64(stats.reduce(0) { $0 + $1.steals }))
        #expect(metrics.counterTotal(label: "actors.executor.parks", dimensions: dimensions) == Int64(stats.reduce(0) { $0 + $1.parks }))
        #expect(metrics.counterTotal(label: "actors.executor.jobs", dimensions: dimensions) >= 2)
    }

    @Test func metrics_arePublishedEveryFlushIntervalWhileBusy() async throws {
        let metrics = TestMetrics()
        var settings = Settings()
        settings.metricsFlushInterval = 10
        settings.spinsBeforePark = 0
        let pool = try withMetricsFactory(metrics) {
            try WorkerPool(plan: syntheticPlan("package:1 core:1 pu:1"), name: "flush", settings: settings)
        }
        let seen = Atomic<Int>(-1)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            try? pool.executor.execute {
                // The only worker is busy: the 99 closures below run back to back, never parking.
                for index in 1...99 {
                    try? pool.executor.execute {
                        guard index == 99 else { return }
                        let total = metrics.counterTotal(label: "actors.executor.jobs", dimensions: [("pool", "flush")])
                        seen.store(Int(total), ordering: .relaxed)
                        continuation.resume()
                    }
                }
            }
        }
        try pool.shutdown()
        // Seed plus 98 closures finished before the last one ran: 99 runs, published at 90.
        #expect(seen.load(ordering: .relaxed) == 90)
        #expect(pool.statistics()[0].parks >= 1, "with no spinning an idle worker parks")
    }
}
