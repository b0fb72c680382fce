// Placeholder until discovery, the store worker and live refresh land: finds nothing.
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { StepDatabase, StepDatabases } from './stepDatabases';

export interface WorkspaceStepDatabasesOptions {
  context: vscode.ExtensionContext;
  log: Logger;
}

export class WorkspaceStepDatabases implements StepDatabases {
  private readonly changedList = new vscode.EventEmitter<void>();
  private readonly changedOne = new vscode.EventEmitter<StepDatabase>();
  readonly onDidChangeDatabases = this.changedList.event;
  readonly onDidChangeDatabase = this.changedOne.event;
  readonly all: readonly StepDatabase[] = [];
  readonly discovered = true;

  constructor(readonly options: WorkspaceStepDatabasesOptions) {
    void vscode.commands.executeCommand('setContext', 'stepHistory.discovered', true);
  }

  get(id: string): StepDatabase | undefined {
    return this.all.find((d) => d.id === id);
  }

  async refresh(): Promise<void> {}

  async add(dbPath: string): Promise<StepDatabase> {
    throw new Error(`not yet able to open ${dbPath}`);
  }

  dispose(): void {
    this.changedList.dispose();
    this.changedOne.dispose();
  }
}
