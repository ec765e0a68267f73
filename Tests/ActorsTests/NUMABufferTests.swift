import Testing

@testable import Actors

@Suite struct NUMABufferTests {
    @Test func buffer_isResidentOnItsNode_andZeroed() throws {
        let machine = try MachineTopology.load()
        for node in machine.topology.numaNodes.indices {
            let buffer = try NUMABuffer<Float>(count: 1 << 20, numaNode: node, machine: machine)
            let sum = buffer.withUnsafeMutableBufferPointer { pixels in
                var sum: Float = 0
                for index in pixels.indices {
                    sum += pixels[index]
                    pixels[index] = 1
                }
                return sum
            }
            #expect(sum == 0)
            #expect(buffer.residentNodes() == [node])
            #expect(buffer.withUnsafeMutableBufferPointer { $0.reduce(0, +) } == Float(1 << 20))
        }
    }

    @Test func buffers_areFreed_soRepeatedAllocationDoesNotGrowMemory() throws {
        let machine = try MachineTopology.load()
        let before = residentBytes()
        for _ in 0..<40 {
            let buffer = try NUMABuffer<UInt8>(count: 64 << 20, numaNode: 0, machine: machine)
            buffer.withUnsafeMutableBufferPointer { bytes in
                var index = 0
                while index < bytes.count {
                    bytes[index] = 1
                    index += 4096
                }
            }
        }
        // 40 leaked buffers would be 2.5 GiB; freed ones leave the resident set where it was.
        #expect(residentBytes() - before < 256 << 20)
    }

    @Test func badRequests_getTypedErrors() throws {
        let machine = try MachineTopology.load()
        #expect(throws: NUMAMemoryError.unknownNode(99, available: machine.topology.numaNodes.count)) {
            try NUMABuffer<Float>(count: 10, numaNode: 99, machine: machine)
        }
        #expect(throws: NUMAMemoryError.invalidCount(0)) { try NUMABuffer<Float>(count: 0, numaNode: 0, machine: machine) }
        #expect(throws: NUMAMemoryError.invalidCount(Int.max)) {
            try NUMABuffer<Double>(count: Int.max, numaNode: 0, machine: machine)
        }
        let synthetic = try MachineTopology(synthetic: "package:1 numa:2 core:2 pu:1")
        #expect(throws: NUMAMemoryError.syntheticTopology) { try NUMABuffer<Float>(count: 10, numaNode: 1, machine: synthetic) }
    }
}
