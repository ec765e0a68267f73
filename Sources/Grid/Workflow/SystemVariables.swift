/// The variables the grid defines for every task, the Tessera counterparts of ProActive's `PA_*` variables.
///
/// A workflow may refer to them with `${NAME}` anywhere a job variable may appear; subprocess tasks
/// also see them in their environment.
public enum SystemVariables {
    /// The job's identifier (ProActive `PA_JOB_ID`).
    public static let jobID = "TESSERA_JOB_ID"
    /// The job's name (`PA_JOB_NAME`).
    public static let jobName = "TESSERA_JOB_NAME"
    /// The task instance's name, such as `tile#1*2` (`PA_TASK_NAME`).
    public static let taskName = "TESSERA_TASK_NAME"
    /// The loop iteration, from 0 (`PA_TASK_ITERATION`).
    public static let taskIteration = "TESSERA_TASK_ITERATION"
    /// The replica index, from 0 (`PA_TASK_REPLICATION`).
    public static let taskReplication = "TESSERA_TASK_REPLICATION"
    /// The file a script writes its result to (JSON, or plain text).
    public static let resultFile = "TESSERA_RESULT_FILE"
    /// The file a task appends `NAME=value` lines to; those variables reach its children.
    public static let variablesFile = "TESSERA_VARIABLES_FILE"
    /// The file holding the parents' results, as a JSON object keyed by parent instance name (`tile*2`).
    public static let parentResultsFile = "TESSERA_PARENT_RESULTS_FILE"
    /// The working directory the task runs in.
    public static let workDirectory = "TESSERA_WORK_DIR"

    /// Every system variable name; the validator accepts `${NAME}` for each of them.
    public static let systemVariableNames: Set<String> = [
        jobID, jobName, taskName, taskIteration, taskReplication, resultFile, variablesFile, parentResultsFile,
        workDirectory,
    ]
}
