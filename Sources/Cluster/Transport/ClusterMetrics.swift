import Metrics

/// The member's metrics, created once (labels `cluster.*`).
struct ClusterMetrics: Sendable {
    let datagramsSent: Counter
    let datagramsReceived: Counter
    let bytesSent: Counter
    let syncsOpened: Counter
    let syncsFailed: Counter
    let activeMembers: Gauge
    let events: Counter
    let rejected: [Rejection: Counter]

    init() {
        datagramsSent = Counter(label: "cluster.datagrams.sent")
        datagramsReceived = Counter(label: "cluster.datagrams.received")
        bytesSent = Counter(label: "cluster.bytes.sent")
        syncsOpened = Counter(label: "cluster.syncs.opened")
        syncsFailed = Counter(label: "cluster.syncs.failed")
        activeMembers = Gauge(label: "cluster.members.active")
        events = Counter(label: "cluster.events")
        var rejected: [Rejection: Counter] = [:]
        for reason in Rejection.allCases {
            rejected[reason] = Counter(label: "cluster.packets.rejected", dimensions: [("reason", reason.rawValue)])
        }
        self.rejected = rejected
    }
}
