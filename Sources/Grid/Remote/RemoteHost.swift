import Cluster
import Synchronization

/// The scheduler's side of one agent session: the link, what the agent announced, and an outbox whose
/// messages a writer task batches into frames (many assignments per frame, encoded off the scheduler).
final class RemoteHost: Sendable {
    /// The session's number in this grid (a restarted or re-linked agent gets a new one).
    let session: Int
    /// The agent's member identity in the cluster (its process id and epoch when the link was made).
    let member: MemberIdentity
    /// What it announced.
    let resources: AgentResources
    let link: Link
    private let outbox = Mutex<[RemoteMessage]>([])
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// Where large values go (see ``ResultFiles``).
    let sharedDirectory: String?
    /// Reports executions that cannot be sent (a large value and no shared directory) as failed.
    let reject: @Sendable ([NodeReport]) async -> Void

    init(
        session: Int, member: MemberIdentity, resources: AgentResources, link: Link, sharedDirectory: String?,
        reject: @escaping @Sendable ([NodeReport]) async -> Void
    ) {
        self.sharedDirectory = sharedDirectory
        self.reject = reject
        self.session = session
        self.member = member
        self.resources = resources
        self.link = link
        (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs the writer until ``close()``: whatever the outbox holds when it wakes goes out as few frames.
    func runWriter() async {
        for await _ in wakes {
            let messages = outbox.withLock { queued in
                defer { queued = [] }
                return queued
            }
            guard !messages.isEmpty else { continue }
            let (ready, failed) = spillLargeValues(messages)
            if !failed.isEmpty { await reject(failed) }
            for frame in RemoteWire.encode(ready) {
                do {
                    try link.send(frame)
                } catch {
                    link.close()
                    return
                }
            }
        }
    }

    /// Moves the large inputs and parents' results of assignments to the shared directory; an assignment whose
    /// value cannot go comes back as a failed execution.
    private func spillLargeValues(_ messages: [RemoteMessage]) -> (ready: [RemoteMessage], failed: [NodeReport]) {
        var ready: [RemoteMessage] = []
        var failed: [NodeReport] = []
        for message in messages {
            guard case .assign(let batch) = message else {
                ready.append(message)
                continue
            }
            var kept: [TaskAssignment] = []
            kept.reserveCapacity(batch.count)
            for var assignment in batch {
                do {
                    if case .function(let name, let input) = assignment.executable, ResultFiles.isLarge(input) {
                        assignment.executable = .function(name, input: try ResultFiles.spill(input, directory: sharedDirectory, what: "the input"))
                    }
                    for index in assignment.parentResults.indices where ResultFiles.isLarge(assignment.parentResults[index].value) {
                        let parent = assignment.parentResults[index]
                        assignment.parentResults[index].value = try ResultFiles.spill(
                            parent.value, directory: sharedDirectory, what: "the result of \(parent.name)")
                    }
                    kept.append(assignment)
                } catch {
                    failed.append(.finished(
                        job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: assignment.assignedNode,
                        assignedNode: assignment.assignedNode, outcome: .failure(message: error.description), ran: 0))
                }
            }
            if !kept.isEmpty { ready.append(.assign(kept)) }
        }
        return (ready, failed)
    }

    /// Queues a message for the agent.
    func post(_ message: RemoteMessage) {
        outbox.withLock { $0.append(message) }
        wake.yield()
    }

    /// Ends the session: closes the link and stops the writer.
    func close() {
        wake.finish()
        link.close()
    }
}

/// A node of an agent, as the scheduler dispatches to it.
struct RemoteNode: GridNode {
    let id: NodeID
    let host: RemoteHost

    func enqueue(_ batch: [TaskAssignment]) { host.post(.assign(batch)) }

    func abort(job: JobID, index: Int, attempt: Int) -> Bool {
        host.post(.abort(job: job, index: index, attempt: attempt))
        return false
    }

    func setMaySteal(_ allowed: Bool) { host.post(.maySteal(node: id, allowed)) }

    func nudge() {}

    func stop() -> [TaskAssignment] { [] }
}
