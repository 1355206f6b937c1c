import Daemon
import Platform

exitProcess(atadMain(arguments: ProcessArguments.all()))
