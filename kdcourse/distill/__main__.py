"""`python -m kdcourse.distill ...`: distil the sentiment teacher into a student (see kdcourse.command)."""
from kdcourse.command import main

main()
