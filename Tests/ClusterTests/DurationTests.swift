import Cluster
import Testing

/// `Duration.nanoseconds`, the one conversion every module uses (the journal stores it, the wire carries it).
@Suite struct DurationNanosecondsTests {
    @Test func durationsWithinRange_convertExactly() {
        #expect(Duration.seconds(1).nanoseconds == 1_000_000_000)
        #expect(Duration.milliseconds(1_200).nanoseconds == 1_200_000_000)
        #expect(Duration.nanoseconds(-7).nanoseconds == -7)
        #expect(Duration.zero.nanoseconds == 0)
    }

    @Test func durationsPastInt64Nanoseconds_saturateInsteadOfTrapping() {
        #expect(Duration.seconds(Int64.max).nanoseconds == Int64.max)
        #expect(Duration.seconds(Int64.min).nanoseconds == Int64.min)
        #expect(Duration.seconds(9_223_372_036).nanoseconds == 9_223_372_036_000_000_000)
        #expect((Duration.seconds(9_223_372_036) + .milliseconds(900)).nanoseconds == Int64.max)
    }
}
