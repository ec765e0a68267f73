/// The scheduler's one timer: armed for the earliest deadline the core asked to be woken at (a ``SchedulerDirective/wake(_:)``),
/// on the grid's clock. A later deadline never replaces an earlier one; firing or cancelling disarms it.
struct WakeTimer {
    private var armed: (deadline: Duration, task: Task<Void, Never>)?

    /// Arms the timer for `deadline` (grid time; `offset` is what grid time adds to `clock`), unless it is already
    /// armed for that time or earlier. `fire` runs once the clock reaches it, unless the timer was cancelled.
    mutating func arm(_ deadline: Duration, offset: Duration, clock: any GridClock, fire: @escaping @Sendable () async -> Void) {
        if let armed, armed.deadline <= deadline { return }
        armed?.task.cancel()
        let local = deadline - offset
        armed = (deadline, Task {
            do {
                try await clock.sleep(until: local)
            } catch {
                return
            }
            await fire()
        })
    }

    /// Forgets the timer that fired, so that the next deadline arms a new one.
    mutating func fired() { armed = nil }

    mutating func cancel() {
        armed?.task.cancel()
        armed = nil
    }
}
