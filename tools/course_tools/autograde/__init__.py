"""Grading a class that no submission can cheat or harm: students' code runs in a sandboxed worker, and the
points are decided in the grader's process, which no student code ever ran in.

- ``wire``    -- what crosses between them: JSON and plain arrays, Keras models as Keras's own config
- ``worker``  -- the untrusted half, in the sandbox: runs a submission's cells, answers the checks' calls
- ``sandbox`` -- bubblewrap and the limits on memory, processes, files
- ``remote``  -- the grader's handle on a worker, and the student's functions as the checks see them
- ``grade``   -- one submission, then a class in parallel, into nbgrader's gradebook

``python -m course_tools.autograde COURSE ASSIGNMENT`` (``make grade``) runs it; docs/instructors.md (the page for
instructors) says what is isolated and what is not.
"""
