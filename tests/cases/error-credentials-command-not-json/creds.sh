#!/bin/sh
echo 'access-key-id=AKIA secret-access-key=do-not-echo-me'
