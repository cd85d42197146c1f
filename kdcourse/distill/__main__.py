"""`python -m kdcourse.distill ...`: distil the sentiment teacher into a student (see kdcourse.distill.command)."""
from kdcourse.distill.command import main

main()
