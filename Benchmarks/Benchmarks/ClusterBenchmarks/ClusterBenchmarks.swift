import Benchmark
import Cluster

// Gossip membership (issue: Cluster), the speed targets of gossip.md §5 measured by package-benchmark:
// - T10: a valid authenticated datagram opened (header, replay window, HMAC-SHA256, payload) per packet
//   (goal: ≥ 300,000 per second on one core, so ≤ 3.3 µs), and a forged one refused (goal ≤ 2 µs);
// - T9 at a tenth of the scale: 1,000 members for one simulated minute (the full 10,000 members × 10 minutes
//   is `tessera bench cluster --only T9`, goal ≤ 60 s).

private let ring: KeyRing = {
    do {
        return try KeyRing([(id: 1, secret: Array(repeating: 0x5A, count: 32))])
    } catch {
        preconditionFailure("the benchmark key ring is valid: \(error)")
    }
}()

private func packets(_ count: Int, key: UInt8) -> [[UInt8]] {
    let signing = (try? KeyRing([(id: 1, secret: Array(repeating: key, count: 32))])) ?? ring
    var codec = PacketCodec(clusterID: 7, keyRing: signing)
    let sender = MemberIdentity(id: NodeID(high: 1, low: 2))
    let update = Update.alive(Member(id: NodeID(high: 3, low: 4), epoch: 0, incarnation: 1,
                                     address: MemberAddress(ipv4: 0x0A00_0001, port: 7946), status: .alive))
    return (0..<count).map { index in
        codec.seal(Datagram(sender: sender, body: .ping(sequence: UInt32(truncatingIfNeeded: index),
                                                        target: NodeID(high: 9, low: 9)),
                            updates: [update, update]))
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark("T10 open a valid authenticated datagram",
              configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .kilo)) { benchmark in
        let valid = packets(benchmark.scaledIterations.count, key: 0x5A)
        var receiver = PacketCodec(clusterID: 7, keyRing: ring)
        benchmark.startMeasurement()
        for packet in valid { blackHole(receiver.open(packet, stream: false)) }
    }

    Benchmark("T10 refuse a forged datagram",
              configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .kilo)) { benchmark in
        let forged = packets(benchmark.scaledIterations.count, key: 0x11)
        var receiver = PacketCodec(clusterID: 7, keyRing: ring)
        benchmark.startMeasurement()
        for packet in forged { blackHole(receiver.open(packet, stream: false)) }
    }

    Benchmark("T9 simulate 1,000 members for one minute",
              configuration: .init(metrics: [.wallClock, .peakMemoryResident], maxIterations: 3)) { _ in
        var scenario = Scenario(members: 1000, seed: 1)
        scenario.duration = .seconds(60)
        blackHole(Simulator(scenario).run())
    }
}
