"""Grading a class that no submission can cheat or harm: students' code runs in a sandboxed worker, and the
points are decided in a judge, in a sandbox of its own, which no student code ever runs in.

- ``wire``       -- what crosses between them: JSON and plain arrays, Keras models as Keras's own config
- ``worker``     -- the untrusted half, in the sandbox: runs a submission's cells, answers the checks' calls
- ``judge``      -- runs the instructor's checks on what the worker answers, and says what they decided
- ``sandbox``    -- bubblewrap and the limits on memory, processes and files
- ``remote``     -- the judge's handle on a worker, and the student's functions as the checks see them
- ``submission`` -- what judging one submission takes and gives, without Keras
- ``warm``       -- what each grading thread keeps from one submission to the next: its judge, its workers' template
- ``channel``    -- the messages on the Unix sockets to those warm processes
- ``grade``      -- a class in parallel: each submission's worker and judge, then nbgrader's gradebook
- ``cluster``    -- the same on a Dask cluster

``python -m course_tools.autograde COURSE ASSIGNMENT`` (``make grade``) runs it; docs/instructors.md (the page for
instructors) says what is isolated and what is not.
"""
