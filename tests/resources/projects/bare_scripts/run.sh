#!/bin/bash
echo "run.sh $@"
