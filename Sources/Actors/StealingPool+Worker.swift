import Metrics
import CShims
import DequeModule
import Synchronization

extension StealingPool {
    /// The body of a worker thread: bind, then run, steal, spin and park until the pool stops.
    func runWorker(_ worker: Worker) {
        tessera_set_current_worker(identity, worker.index)
        tessera_set_thread_name("\(name)-\(worker.index)")
        let binding = bind(worker)
        worker.binding.withLock { $0 = binding }
        started.signal()

        var unflushed = (jobs: 0, steals: 0, parks: 0)
        func flush() {
            if unflushed.jobs > 0 { metrics.jobs.increment(by: unflushed.jobs) }
            if unflushed.steals > 0 { metrics.steals.increment(by: unflushed.steals) }
            if unflushed.parks > 0 { metrics.parks.increment(by: unflushed.parks) }
            unflushed = (0, 0, 0)
        }
        func run(_ item: WorkItem) {
            switch item {
            case let .job(job, executor): job.runSynchronously(on: executor)
            case let .closure(job): job.body()
            }
            worker.jobsRun.store(worker.jobsRun.load(ordering: .relaxed) + 1, ordering: .relaxed)
            unflushed.jobs += 1
            if unflushed.jobs >= settings.metricsFlushInterval { flush() }
        }

        // Jobs taken from the worker's own queue in one lock, still run oldest-first. At most a quarter
        // of the queue is taken so that thieves find most of it; the cap bounds how long a job taken
        // here waits behind the others of its run.
        var ownRun = Deque<WorkItem>(minimumCapacity: Self.localRunLength)
        var idlePolls = 0
        while true {
            if let item = ownRun.popFirst() {
                run(item)
                idlePolls = 0
                continue
            }
            worker.queue.withLock { queue in
                let take = min(Self.localRunLength, max(1, queue.count / 4))
                for _ in 0..<take {
                    guard let item = queue.popFirst() else { break }
                    ownRun.append(item)
                }
            }
            if !ownRun.isEmpty { continue }
            if let item = steal(for: worker) {
                worker.steals.store(worker.steals.load(ordering: .relaxed) + 1, ordering: .relaxed)
                unflushed.steals += 1
                run(item)
                idlePolls = 0
                continue
            }
            if idlePolls < settings.spinsBeforePark {
                idlePolls += 1
                tessera_cpu_relax()
                continue
            }
            idlePolls = 0
            flush()
            if workerMayExit() { break }
            if park(worker) {
                worker.parks.store(worker.parks.load(ordering: .relaxed) + 1, ordering: .relaxed)
                unflushed.parks += 1
            }
        }
        flush()
        tessera_set_current_worker(nil, -1)
    }

    /// The most jobs a worker takes from its own queue under one lock.
    static let localRunLength = 16

    /// Binds the calling thread to the worker's PUs when the plan is for this machine and allowed.
    private func bind(_ worker: Worker) -> ThreadBinding {
        guard settings.bindThreads else { return .disabled }
        guard plan.source == .machine else { return .planOnly(missing: worker.slot.processingUnits) }
        let allowed = Set(ThreadAffinity.process())
        let missing = worker.slot.processingUnits.filter { !allowed.contains($0) }
        guard missing.isEmpty else { return .planOnly(missing: missing) }
        do {
            try ThreadAffinity.bindCurrentThread(to: worker.slot.processingUnits)
        } catch {
            if case .bindingFailed(_, let code) = error { return .failed(errno: code) }
            return .failed(errno: 0)
        }
        return .bound(ThreadAffinity.current())
    }

    /// Takes the oldest half (capped) of the first non-empty victim queue; runs the first, keeps the rest.
    func steal(for thief: Worker) -> WorkItem? {
        for victimIndex in thief.stealOrder {
            let victim = workers[victimIndex]
            let taken: [WorkItem]? = victim.queue.withLockIfAvailable { queue in
                guard !queue.isEmpty else { return nil }
                let count = min(settings.maxStealBatch, max(1, queue.count / 2))
                let batch = Array(queue.prefix(count))
                queue.removeFirst(count)
                return batch
            } ?? nil
            guard let taken, let first = taken.first else { continue }
            if taken.count > 1 {
                thief.queue.withLock { $0.append(contentsOf: taken.dropFirst()) }
                // The surplus is stealable from this thief now: wake a parked peer to spread it further.
                notify(near: thief.index)
            }
            return first
        }
        return nil
    }

    /// Whether any worker has queued work (locks each queue; used only when going idle).
    func hasQueuedWork() -> Bool {
        workers.contains { worker in worker.queue.withLock { !$0.isEmpty } }
    }

    /// Parks the worker until a submitter wakes it.
    ///
    /// - Returns: whether the worker really slept (it does not when work or a stop shows up while it
    ///   announces itself).
    private func park(_ worker: Worker) -> Bool {
        worker.parked.store(true, ordering: .sequentiallyConsistent)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if hasQueuedWork() || isStopping {
            if worker.parked.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent)
                .exchanged
            {
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                return false
            }
            // A submitter claimed this worker and is about to signal: consume that signal.
        }
        worker.wake.wait()
        return true
    }
}
