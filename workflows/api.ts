// Queries, signals and updates of the migration workflow: the names ops type
// in the Temporal UI and the `temporal` CLI.
import { defineQuery } from '@temporalio/workflow';
import type { Progress } from '../src/types';

export const progressQuery = defineQuery<Progress>('progress');
